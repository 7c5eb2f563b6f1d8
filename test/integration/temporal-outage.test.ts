import { call, type ApiResponse } from '../setup/http';
import { client, inSeconds } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';
import { startTcpProxy, type TcpProxy } from '../setup/tcp-proxy';

/*
 * The Temporal frontend goes away (a loopback proxy resets and refuses its connections) and comes
 * back: meanwhile the routes that need it answer 503 with Retry-After within the API's deadlines,
 * never a 500 and never a hang,
 * and a create refused then is accepted by the client's retry with the same key.
 */
/** The API's own deadlines: 15 s for a start, 30 s for an update (which also waits for a worker). */
const ANSWER_WITHIN_MS = 31_000;

let proxy: TcpProxy;
let stack: TestStack;

beforeAll(async () => {
  const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
  proxy = await startTcpProxy({ host, port: Number(port) });
  stack = await startTestStack({ env: { TEMPORAL_ADDRESS: proxy.address } });
});
afterAll(async () => {
  await proxy?.restore().catch(() => undefined);
  await stack?.stop();
  await proxy?.close();
});

async function timed(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
  const started = performance.now();
  const res: ApiResponse = await call(stack.url, method, path, { body, headers, signal: AbortSignal.timeout(40_000) }).catch(() => ({
    status: 0,
    headers: new Headers(),
    body: undefined,
  }));
  return { ...res, ms: performance.now() - started, what: `${method} ${path}` };
}

test('without Temporal: 503 with Retry-After within the deadlines; back: the same key creates the notification', async () => {
  const api = client(stack);
  const pending = await api.create({ userId: 'tq-user', channels: ['webhook'], content: { body: 'pending' }, scheduledAt: inSeconds(3600) });
  expect(pending.status).toBe(202);

  await proxy.cut();
  const body = { userId: 'tq-user', channels: ['webhook'], content: { body: 'during the outage' }, scheduledAt: inSeconds(3600) };
  const answers = [
    await timed('GET', '/readyz'),
    await timed('POST', '/v1/notifications', body, { 'Idempotency-Key': 'temporal-outage-create' }),
    await timed('DELETE', `/v1/notifications/${pending.body.id}`),
    await timed('PATCH', `/v1/notifications/${pending.body.id}`, { content: { body: 'changed' } }),
    await timed('GET', `/v1/notifications/${pending.body.id}`),
  ];
  const shown = answers.map((a) => `${a.what}: ${a.status}${a.status === 503 && a.headers.get('retry-after') ? ' Retry-After' : ''}${a.ms > ANSWER_WITHIN_MS ? ' (slow)' : ''}`);
  expect(shown).toEqual([
    'GET /readyz: 503 Retry-After',
    'POST /v1/notifications: 503 Retry-After',
    `DELETE /v1/notifications/${pending.body.id}: 503 Retry-After`,
    `PATCH /v1/notifications/${pending.body.id}: 503 Retry-After`,
    // Read from Postgres; only the live status is missing.
    `GET /v1/notifications/${pending.body.id}: 200`,
  ]);

  await proxy.restore();
  // As a client does: retried after the Retry-After it was given while the connection comes back.
  let retried = await api.create(body, 'temporal-outage-create');
  for (let i = 0; retried.status === 503 && i < 6; i++) {
    await new Promise((r) => setTimeout(r, Number(retried.headers.get('retry-after')) * 1000));
    retried = await api.create(body, 'temporal-outage-create');
  }
  expect(retried.status).toBe(200);
  expect(retried.headers.get('idempotency-replay')).toBe('true');
  const detail = await api.waitUntil(retried.body.id, (d) => d.live?.phase === 'SCHEDULED', 'to be sleeping in its workflow');
  expect(detail.status).toBe('SCHEDULED');
}, 180_000);
