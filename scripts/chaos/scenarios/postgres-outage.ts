// PostgreSQL goes away for a while during deliveries (every connection reset, new ones refused).
// Meanwhile every route answers within 2 s — 503 with Retry-After where it needs the database,
// never 500 — and the worker stays up; afterwards every terminal state is recorded and the attempt
// log matches what the receiver saw.
import { sleep } from '../../bench/timing';
import { Api } from '../api';
import { startReceiver } from '../receiver';
import { check, createDue, deliveryFigures, recipients, spreadOver, type Scenario } from '../scenario';
import { Herald } from '../world';

export const postgresOutage: Scenario = {
  name: 'PostgreSQL stopped mid-delivery',
  async run(ctx) {
    const n = ctx.quick ? 100 : 300;
    const outageMs = ctx.quick ? 10_000 : 30_000;
    const receiver = await startReceiver();
    const herald = await Herald.start({ ...ctx, name: 'postgres-outage' });
    const api = herald.client;
    const users = await recipients(api, receiver, 'pgdown', 10);
    const firstDue = Date.now() + 6_000;
    const created = await createDue(api, users, spreadOver(n, firstDue, outageMs + 6_000));
    await sleep(Math.max(0, firstDue + 2_000 - Date.now()));

    await herald.database.cut();
    const cutAt = Date.now();
    ctx.say(`  PostgreSQL cut (${receiver.arrivals.length} received so far)`);
    // Each route a client or an orchestrator calls, every second, answered within 2 s.
    const probe = new Api(api.url, 5_000);
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/healthz'],
      ['GET', '/readyz'],
      ['GET', `/v1/notifications/${created[0].id}`],
      ['GET', `/v1/notifications?userId=${users[0]}`],
      ['GET', `/v1/users/${users[0]}/targets`],
      ['POST', '/v1/notifications', { userId: users[0], channels: ['webhook'], content: { body: 'during the outage' } }],
      ['PATCH', `/v1/notifications/${created[n - 1].id}`, { content: { body: 'changed during the outage' } }],
      ['GET', '/v1/dlq'],
    ];
    let healthy = 0;
    let rounds = 0;
    while (Date.now() - cutAt < outageMs) {
      const answers = await Promise.all(routes.map(([method, path, body]) => probe.call(method, path, body, method === 'POST' ? { 'Idempotency-Key': `pgdown-${Date.now()}` } : {})));
      healthy += answers[0].status === 200 ? 1 : 0;
      rounds++;
      await sleep(1000);
    }
    await herald.database.restore();
    ctx.say(`  PostgreSQL back after ${Math.round((Date.now() - cutAt) / 1000)} s`);

    const details = await api.settle(created.map((c) => c.id), 180_000);
    const figures = deliveryFigures(created, details, receiver);
    // The attempt log against the receiver: one logged delivered attempt per request the receiver accepted.
    let mismatched = 0;
    for (const c of created) {
      const logged = (details.get(c.id)?.attempts ?? []).filter((a: { outcome: string }) => a.outcome === 'delivered').length;
      if (logged !== receiver.of(c.id).length) mismatched++;
    }
    await herald.stop();
    await receiver.close();
    const t = probe.tally;
    return {
      load: `${n} due over ${(outageMs + 6_000) / 1000} s`,
      faults: `database connections cut for ${outageMs / 1000} s`,
      lost: figures.lost,
      duplicates: figures.duplicates,
      serverErrors: t.serverErrors + api.tally.serverErrors,
      maxLatenessMs: figures.maxLatenessMs,
      checks: [
        check('every notification DELIVERED in Postgres and received', figures.lost === 0, `${figures.lost} not`),
        check('every route answered within 2 s: 503 with Retry-After, never 500', t.serverErrors === 0 && t.noAnswer === 0 && t.unavailableWithoutRetryAfter === 0 && t.slowestMs <= 2_000, `slowest ${t.slowestMs} ms, ${t.unavailable} × 503${t.examples.length ? `; ${t.examples.join('; ')}` : ''}`),
        check('/healthz stayed 200 (the process is alive)', healthy === rounds, `${healthy} of ${rounds}`),
        check("the attempt log matches the receiver's log", mismatched === 0, `${mismatched} notifications differ`),
        check('none twice', figures.duplicates === 0, `${figures.duplicates}`),
      ],
    };
  },
};
