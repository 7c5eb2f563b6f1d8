// Notifications sleep on durable timers while no worker runs at all: the worker goes down before
// they are due and comes back well after. All fire once it is back, none before their due time,
// none twice.
import { sleep } from '../../bench/timing';
import { startReceiver } from '../receiver';
import { check, createDue, deliveryFigures, recipients, spreadOver, type Scenario } from '../scenario';
import { Herald } from '../world';

export const timerDurability: Scenario = {
  name: 'timers while no worker runs',
  async run(ctx) {
    const n = ctx.quick ? 200 : 1000;
    // Seconds from the first create: due at `dueS`; the worker is down from `downS` to `upS`.
    const [dueS, downS, upS] = ctx.quick ? [25, 12, 45] : [60, 30, 120];
    const receiver = await startReceiver();
    const herald = await Herald.start({ ...ctx, name: 'timer-durability' });
    const api = herald.client;
    const users = await recipients(api, receiver, 'timers', 20);
    const t0 = Date.now();
    const created = await createDue(api, users, spreadOver(n, t0 + dueS * 1000, 1000));
    ctx.say(`  ${n} created in ${((Date.now() - t0) / 1000).toFixed(1)} s, due at ${dueS} s`);

    await sleep(Math.max(0, t0 + downS * 1000 - Date.now()));
    await herald.killWorker();
    ctx.say(`  worker down at ${Math.round((Date.now() - t0) / 1000)} s`);
    await sleep(Math.max(0, t0 + upS * 1000 - Date.now()));
    const receivedWhileDown = receiver.arrivals.length;
    const upAt = Date.now();
    await herald.startWorker();
    ctx.say(`  worker back at ${Math.round((Date.now() - t0) / 1000)} s`);

    const details = await api.settle(created.map((c) => c.id), 300_000);
    const figures = deliveryFigures(created, details, receiver);
    await herald.stop();
    await receiver.close();
    return {
      load: `${n} due ${dueS} s out`,
      faults: `no worker from ${downS} s to ${upS} s`,
      lost: figures.lost,
      duplicates: figures.duplicates,
      serverErrors: api.tally.serverErrors,
      maxLatenessMs: figures.maxLatenessMs,
      checks: [
        check('every notification DELIVERED and received after the worker returned', figures.lost === 0 && receivedWhileDown === 0, `${figures.lost} not delivered, ${receivedWhileDown} received while down`),
        check('none early, none twice', figures.early === 0 && figures.duplicates === 0, `${figures.early} early, ${figures.duplicates} twice`),
        check('the backlog drained', figures.maxLatenessMs < (upS - dueS) * 1000 + 120_000, `last ${Math.round((Date.now() - upAt) / 1000)} s after the return`),
      ],
    };
  },
};
