// The embedded default (`npm start`: one process, PGlite, its own Temporal dev server) is killed
// with kill -9 while notifications are pending, which leaves its dev server running as an orphan.
// Started again, it stops that orphan and carries on: nothing lost, and once it is stopped no dev
// server is left on its file.
import fs from 'node:fs';
import path from 'node:path';
import { spawnNodeEntry } from '../../bench/children';
import { heraldEnv, waitForApi } from '../../bench/herald';
import { freePort } from '../../bench/ports';
import { Api } from '../api';
import { startReceiver } from '../receiver';
import { check, createDue, deliveryFigures, recipients, spreadOver, type Scenario } from '../scenario';

/** Processes whose command line names `file`: dev servers on that SQLite file. */
function processesOn(file: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(file) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
      } catch {
        return false;
      }
    })
    .map(Number);
}

export const embeddedKill: Scenario = {
  name: 'embedded default kill -9',
  async run(ctx) {
    const n = ctx.quick ? 50 : 200;
    const dataDir = path.join(ctx.runDir, 'embedded');
    const dbFile = path.join(dataDir, 'temporal.sqlite');
    const port = await freePort();
    const env = heraldEnv({ PORT: String(port), DATA_DIR: dataDir, TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_UI_PORT: String(await freePort()), THROTTLE_BURST: '0' });
    const start = (i: number) => spawnNodeEntry(`embedded-${i}`, 'src/main.ts', { cwd: ctx.repoRoot, env, logDir: ctx.logDir });
    const receiver = await startReceiver();
    const api = new Api(`http://127.0.0.1:${port}`);

    let main = start(1);
    await waitForApi(api.url);
    const users = await recipients(api, receiver, 'embedded', 10);
    const created = await createDue(api, users, spreadOver(n, Date.now() + 20_000, 5_000));
    await main.kill();
    const orphans = processesOn(dbFile);
    ctx.say(`  kill -9: ${orphans.length} dev server(s) left running on its file`);

    main = start(2);
    await waitForApi(api.url);
    const details = await api.settle(created.map((c) => c.id), 180_000);
    const figures = deliveryFigures(created, details, receiver);
    await main.stop(25_000);
    const left = processesOn(dbFile);
    await receiver.close();
    return {
      load: `${n} pending`,
      faults: 'kill -9 of `npm start`, then start again',
      lost: figures.lost,
      duplicates: figures.duplicates,
      serverErrors: api.tally.serverErrors,
      maxLatenessMs: figures.maxLatenessMs,
      checks: [
        check('the kill left an orphan dev server (what the restart must deal with)', orphans.length === 1, `${orphans.length}`),
        check('every notification DELIVERED and received, none twice', figures.lost === 0 && figures.duplicates === 0, `${figures.lost} lost, ${figures.duplicates} twice`),
        check('no dev server left on the file after the stop', left.length === 0, left.length ? `pids ${left.join(', ')}` : undefined),
      ],
    };
  },
};
