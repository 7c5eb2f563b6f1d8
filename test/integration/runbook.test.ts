import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { createFailed, inSeconds, webhookWorld } from '../setup/scenario';

/*
 * The operator runbook in docs/operations.md is run line by line, as written, against a real
 * stack: a command that stopped working (a renamed signal, a changed route, a CLI flag) fails here
 * rather than at 3 a.m.
 */
const ROOT = path.resolve(__dirname, '..', '..');
// Not spawnSync: the stack under test (API and worker) runs in this process and must keep answering.
const run = promisify(execFile);

/** The command lines of the runbook's second `sh` block (the first sets the variables). */
function runbookCommands(): string[] {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Runbook'));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks[1].split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
}

describe('the operator runbook', () => {
  const KEY = 'runbook-operator-key';
  const w = webhookWorld('runbook', { env: { API_KEYS: KEY, RETRY_WEBHOOK_INITIAL_INTERVAL: '100ms', RETRY_WEBHOOK_MAX_ATTEMPTS: '2' } });

  test('every command runs, and does what it says', async () => {
    const commands = runbookCommands();
    expect(commands.length).toBeGreaterThanOrEqual(10);
    const userId = await w.recipient();
    const type = 'runbook-type';
    const sleeping = await w.api.create({ userId, type, channels: ['webhook'], content: { body: 'asleep' }, scheduledAt: inSeconds(3600) });
    const failedId = await createFailed(w.api, w.receiver, { userId, type, channels: ['webhook'], content: { body: 'fails' } });
    const env = {
      ...process.env,
      T: process.env.TEMPORAL_CLI_PATH!,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
      HERALD: w.stack.url,
      KEY,
      ID: sleeping.body.id,
      FAILED_ID: failedId,
      USER_ID: userId,
      TYPE: type,
    };

    const failures: string[] = [];
    const outputs: string[] = [];
    for (const command of commands) {
      try {
        outputs.push((await run('bash', ['-c', command], { env, timeout: 60_000 })).stdout);
      } catch (err) {
        const failed = err as { code?: number; stderr?: string };
        failures.push(`${command}\n  exit ${failed.code}: ${(failed.stderr ?? '').trim().slice(0, 500)}`);
      }
    }
    expect(failures).toEqual([]);

    // What the commands said and did.
    const said = outputs.join('\n');
    expect(said).toContain(sleeping.body.id);
    expect(said).toContain(failedId);
    const cancelled = await w.api.waitFor(sleeping.body.id, 'CANCELLED');
    expect(cancelled.transitions.map((t: { to: string; reason: string | null }) => `${t.to}(${t.reason ?? ''})`)).toEqual([
      'SCHEDULED(accepted)',
      'SCHEDULED(rescheduled)',
      'CANCELLED(requested)',
    ]);
    expect(cancelled.scheduledAt).toBe('2027-01-31T09:00:00.000Z');
    const redriven = await w.api.get(failedId);
    expect(redriven.body.transitions.map((t: { reason: string | null }) => t.reason)).toContain('redriven');
  });
});
