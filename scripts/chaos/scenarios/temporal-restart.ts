// The Temporal server is killed with notifications pending and started again on the same SQLite
// file. Meanwhile the API must answer 503 with Retry-After (never 500); afterwards every
// notification fires once, none before its due time, and creates refused during the outage succeed
// when the client retries them with the same key.
import { sleep } from '../../bench/timing';
import { Api } from '../api';
import { startReceiver } from '../receiver';
import { check, createDue, deliveryFigures, recipients, spreadOver, type Scenario } from '../scenario';
import { Herald } from '../world';

export const temporalRestart: Scenario = {
  name: 'Temporal server restarted',
  async run(ctx) {
    const n = ctx.quick ? 200 : 500;
    const downMs = ctx.quick ? 8_000 : 20_000;
    const receiver = await startReceiver();
    const herald = await Herald.start({ ...ctx, name: 'temporal-restart' });
    const api = herald.client;
    const users = await recipients(api, receiver, 'restart', 10);
    const firstDue = Date.now() + (ctx.quick ? 12_000 : 20_000) + downMs;
    const created = await createDue(api, users, spreadOver(n, firstDue, 10_000));
    ctx.say(`  ${n} created, first due in ${Math.round((firstDue - Date.now()) / 1000)} s`);

    await ctx.temporal.kill();
    const killedAt = Date.now();
    ctx.say('  Temporal killed');
    // The outage as clients see it: creates (which need Temporal), reads (which need only Postgres), readiness.
    const probe = new Api(api.url, 20_000);
    const refused: Array<{ key: string; body: Record<string, unknown> }> = [];
    const probes: Promise<unknown>[] = [];
    for (let i = 0; Date.now() - killedAt < downMs; i++) {
      const key = `restart-probe-${i}`;
      const body = { userId: users[i % users.length], channels: ['webhook'], content: { body: 'created during the outage' } };
      probes.push(probe.create(body, key).then((r) => r.status === 503 && refused.push({ key, body })));
      probes.push(probe.get(created[i % n].id), probe.call('GET', '/readyz'));
      await sleep(1000);
    }
    await ctx.temporal.start();
    const restartedAt = Date.now();
    ctx.say(`  Temporal back after ${Math.round((restartedAt - killedAt) / 1000)} s`);
    await Promise.all(probes);

    // The client's retry, same key and body: accepted now, and the notification is delivered like the rest.
    const retried = [];
    for (const { key, body } of refused) {
      const r = await api.create(body, key);
      if (r.status === 202 || r.status === 200) retried.push({ id: r.body.id as string, dueAt: restartedAt - 60_000 });
    }
    const all = [...created, ...retried];
    const details = await api.settle(all.map((c) => c.id), 180_000);
    const figures = deliveryFigures(all, details, receiver);
    await herald.stop();
    await receiver.close();
    const t = probe.tally;
    return {
      load: `${n} pending`,
      faults: `SIGKILL of the server, ${Math.round((restartedAt - killedAt) / 1000)} s down`,
      lost: figures.lost,
      duplicates: figures.duplicates,
      serverErrors: t.serverErrors + api.tally.serverErrors,
      maxLatenessMs: deliveryFigures(created, details, receiver).maxLatenessMs,
      checks: [
        check('every notification DELIVERED and received', figures.lost === 0, `${figures.lost} not`),
        check('none early, none twice', figures.early === 0 && figures.duplicates === 0, `${figures.early} early, ${figures.duplicates} twice`),
        check('during the outage: 503 with Retry-After, never 500, always an answer', t.serverErrors === 0 && t.unavailableWithoutRetryAfter === 0 && t.noAnswer === 0, t.examples.join('; ') || `${t.unavailable} × 503`),
        check("creates refused during the outage are accepted on the client's retry", retried.length === refused.length, `${retried.length}/${refused.length}`),
      ],
    };
  },
};
