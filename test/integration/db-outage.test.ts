import { listRoutes } from '../../src/api/openapi';
import { call, type ApiResponse } from '../setup/http';
import { client, inSeconds } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';
import { startTcpProxy, type TcpProxy } from '../setup/tcp-proxy';
import { startWebhookReceiver, type WebhookReceiver } from '../setup/webhook-receiver';

/*
 * PostgreSQL goes away (a loopback proxy in front of the real server resets every connection and
 * refuses new ones) and comes back. Meanwhile every route answers within 2 s — 503 with Retry-After
 * where it needs the database, never a 500, never a hang — and a notification that fell due during
 * the outage is delivered once after it.
 */
const ANSWER_WITHIN_MS = 2000;

let proxy: TcpProxy;
let stack: TestStack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  const server = new URL(process.env.TEST_DATABASE_URL!);
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  receiver = await startWebhookReceiver();
  stack = await startTestStack({ database: 'postgres', databaseVia: proxy.address, env: { RETRY_WEBHOOK_INITIAL_INTERVAL: '200ms' } });
});
afterAll(async () => {
  await proxy?.restore().catch(() => undefined);
  await stack?.stop();
  await receiver?.close();
  await proxy?.close();
});

async function timed(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse & { ms: number; what: string }> {
  const started = performance.now();
  // A hang shows as status 0 after 10 s.
  const res = await call(stack.url, method, path, { body, headers, signal: AbortSignal.timeout(10_000) }).catch(
    (): ApiResponse => ({ status: 0, headers: new Headers(), body: undefined }),
  );
  return { ...res, ms: performance.now() - started, what: `${method} ${path}` };
}

test('during the outage every route answers quickly, 503 with Retry-After where it needs the database; after it, the due notification is delivered once', async () => {
  const api = client(stack);
  expect((await api.registerWebhook('outage-user', `${receiver.url}/outage`)).status).toBe(201);
  const waiting = await api.create({ userId: 'outage-user', channels: ['webhook'], content: { body: 'through the outage' }, scheduledAt: inSeconds(4) });
  expect(waiting.status).toBe(202);

  await proxy.cut();
  const answers = [
    await timed('GET', '/readyz'),
    await timed('GET', '/healthz'),
    await timed('GET', `/v1/notifications/${waiting.body.id}`),
    await timed('GET', '/v1/notifications?userId=outage-user'),
    await timed('POST', '/v1/notifications', { userId: 'outage-user', channels: ['webhook'], content: { body: 'during' } }, { 'Idempotency-Key': 'during-outage' }),
    await timed('PUT', '/v1/users/outage-user/preferences', { timeZone: 'Europe/Berlin' }),
    await timed('POST', '/v1/users/outage-user/webhooks', { url: `${receiver.url}/another` }),
    await timed('GET', '/v1/types'),
    await timed('GET', '/metrics'),
  ];
  const byWhat = Object.fromEntries(answers.map((a) => [a.what, a.status]));
  // And every other route, with whatever its empty request leads to.
  for (const { method, path } of listRoutes(stack.api!.app)) {
    const body = ['post', 'put', 'patch'].includes(method) ? {} : undefined;
    answers.push(await timed(method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'outage-user'), body));
  }
  const problems = answers.filter((a) => a.ms > ANSWER_WITHIN_MS || a.status >= 500 && (a.status !== 503 || !a.headers.get('retry-after')));
  expect(problems.map((a) => `${a.what}: ${a.status} in ${Math.round(a.ms)} ms`)).toEqual([]);
  expect(byWhat['GET /readyz']).toBe(503);
  expect(byWhat['GET /healthz']).toBe(200);
  expect(byWhat[`GET /v1/notifications/${waiting.body.id}`]).toBe(503);
  expect(byWhat['POST /v1/notifications']).toBe(503);
  expect(byWhat['GET /v1/types']).toBe(503);

  // The notification falls due while the database is away.
  await new Promise((r) => setTimeout(r, 6000));
  expect(receiver.received).toHaveLength(0);
  await proxy.restore();

  const done = await api.waitFor(waiting.body.id, 'DELIVERED', 'FAILED');
  expect(done.status).toBe('DELIVERED');
  await new Promise((r) => setTimeout(r, 1000));
  expect(receiver.received.filter((r) => r.headers['webhook-id'] === waiting.body.id)).toHaveLength(1);
  expect((await timed('GET', '/readyz')).status).toBe(200);
}, 120_000);

/*
 * The database goes away in the instant between the provider's answer and the attempt-log write. The
 * send must not be made again for it, and the row must not be lost: the workflow writes it once the
 * database is back. Both ways the answer can go: delivered, and a permanent refusal.
 */
describe('an attempt made while the database is away is logged once it returns', () => {
  const attemptsOf = async (api: ReturnType<typeof client>, id: string) =>
    (await api.read(`/v1/notifications/${id}`)).body.attempts as Array<{ attempt: number; outcome: string; httpStatus: number | null; channel: string }>;

  test.each([
    { answer: 204, ends: 'DELIVERED', outcome: 'delivered' },
    { answer: 410, ends: 'FAILED', outcome: 'permanent_error' },
  ])('provider answers $answer: one request, one $outcome row, $ends', async ({ answer, ends, outcome }) => {
    const api = client(stack);
    const userId = `late-row-${answer}`;
    expect((await api.registerWebhook(userId, `${receiver.url}/${userId}`)).status).toBe(201);
    let cutAt = 0;
    receiver.respondWith({ status: answer, before: async () => {
      await proxy.cut();
      cutAt = Date.now();
    } });
    const created = await api.create({ userId, channels: ['webhook'], content: { body: 'logged late' } });
    expect(created.status).toBe(202);
    await waitUntil(() => cutAt > 0, 15_000);
    // Long enough for the send to have tried its write and for the workflow's write to retry.
    await new Promise((r) => setTimeout(r, 4000));
    await proxy.restore();

    const done = await api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
    expect(done.status).toBe(ends);
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === created.body.id)).toHaveLength(1);
    const attempts = await attemptsOf(api, created.body.id);
    expect(attempts.map((a) => ({ attempt: a.attempt, outcome: a.outcome, channel: a.channel }))).toEqual([{ attempt: 1, outcome, channel: 'webhook' }]);
    if (answer !== 204) expect(attempts[0].httpStatus).toBe(answer);
  }, 90_000);
});

async function waitUntil(condition: () => boolean, withinMs: number) {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
