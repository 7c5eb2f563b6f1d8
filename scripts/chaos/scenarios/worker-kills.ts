// The worker is SIGKILLed at random moments while notifications are being delivered, and started
// again each time. Nothing may be lost; a send the provider took just before a kill may be made
// again (at-least-once), so duplicates are bounded by what was in flight, and carry the same id.
import { sleep } from '../../bench/timing';
import { startReceiver } from '../receiver';
import { check, createDue, deliveryFigures, recipients, spreadOver, type Scenario } from '../scenario';
import { Herald } from '../world';

export const workerKills: Scenario = {
  name: 'worker SIGKILLed mid-delivery',
  async run(ctx) {
    const n = ctx.quick ? 200 : 1000;
    const kills = ctx.quick ? 1 : 3;
    const windowMs = ctx.quick ? 15_000 : 45_000;
    const receiver = await startReceiver();
    // Workflow tasks already queued for the killed worker wait out its sticky-queue timeout (5 minutes by
    // default, see docs/performance.md) before another worker takes them. The CI preset shortens it
    // to stay short; the full run keeps the default and shows its cost as lateness.
    const sticky: Record<string, string> = ctx.quick ? { WORKER_STICKY_QUEUE_TIMEOUT: '20s' } : {};
    const herald = await Herald.start({ ...ctx, name: 'worker-kills', env: sticky });
    const api = herald.client;
    const users = await recipients(api, receiver, 'kills', 20);
    const firstDue = Date.now() + (ctx.quick ? 8_000 : 20_000);
    const created = await createDue(api, users, spreadOver(n, firstDue, windowMs));
    ctx.say(`  ${n} created, due over ${windowMs / 1000} s`);

    // Kill moments: one at random in each equal slice of the delivery window.
    let inFlightAtKills = 0;
    for (let k = 0; k < kills; k++) {
      const at = firstDue + ((k + Math.random()) * windowMs) / kills;
      await sleep(Math.max(0, at - Date.now()));
      // Everything SENDING may be in flight at the provider: the most a kill can make be sent twice.
      const sending = await api.call('GET', `/v1/notifications?status=SENDING&limit=200`);
      inFlightAtKills += Array.isArray(sending.body?.items) ? sending.body.items.length : 0;
      await herald.killWorker();
      ctx.say(`  kill ${k + 1}/${kills} at due+${Math.round((Date.now() - firstDue) / 1000)} s (${receiver.arrivals.length} received so far)`);
      await sleep(1000);
      await herald.startWorker();
    }

    const details = await api.settle(created.map((c) => c.id), ctx.quick ? 180_000 : 600_000);
    const figures = deliveryFigures(created, details, receiver);
    await herald.stop();
    await receiver.close();
    return {
      load: `${n} due over ${windowMs / 1000} s`,
      faults: `${kills} × SIGKILL of the worker${ctx.quick ? ' (sticky timeout 20 s)' : ''}`,
      lost: figures.lost,
      duplicates: figures.duplicates,
      serverErrors: api.tally.serverErrors,
      maxLatenessMs: figures.maxLatenessMs,
      checks: [
        check('every notification DELIVERED in Postgres and received', figures.lost === 0, `${figures.lost} not`),
        check('duplicates ≤ sends in flight at the kills', figures.duplicates <= inFlightAtKills, `${figures.duplicates} duplicates, ${inFlightAtKills} SENDING at the kills`),
        check('every request carries the id of a notification it was for', figures.strangers === 0, `${figures.strangers} with another id`),
        check('none early', figures.early === 0, `${figures.early} early`),
      ],
    };
  },
};
