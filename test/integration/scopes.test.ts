import { listRoutes } from '../../src/api/openapi';
import { call } from '../setup/http';
import { startTestStack, type TestStack } from '../setup/stack';

/*
 * API keys and their scopes, route by route: every /v1 route answers 401 without a key (or with a
 * revoked one), 403 to a client key when it needs admin, and lets the right key through. The route
 * list is Express' own, so a new route is covered the day it is added. Then the per-key rate limit.
 */
const ADMIN_KEY = 'bootstrap-admin-key-0123456789';
const PER_MINUTE = 200;

let stack: TestStack;
let clientKey: string;
let clientKeyId: string;

beforeAll(async () => {
  stack = await startTestStack({ env: { API_KEYS: ADMIN_KEY, API_RATE_LIMIT_PER_MINUTE: String(PER_MINUTE) } });
  const made = await call(stack.url, 'POST', '/v1/api-keys', { body: { scope: 'client', name: 'billing service' }, headers: { 'x-api-key': ADMIN_KEY } });
  expect(made.status).toBe(201);
  ({ key: clientKey, id: clientKeyId } = made.body);
});
afterAll(async () => {
  await stack?.stop();
});

const as = (key?: string) => (key ? { 'x-api-key': key } : undefined);

/** Every documented /v1 operation with a concrete path, and the scope its contract asks for. */
function v1Operations() {
  return listRoutes(stack.api!.app)
    .filter((r) => r.path.startsWith('/v1/'))
    .map((r) => ({
      method: r.method.toUpperCase(),
      path: r.path.replace(/\{[^}]+\}/g, (p) => (p === '{userId}' ? 'scope-user' : 'x')),
      scope: r.contract?.scope,
    }));
}

test('every /v1 route declares a scope, and the admin routes are the operator ones', () => {
  const operations = v1Operations();
  expect(operations.filter((o) => !o.scope)).toEqual([]);
  const admin = operations.filter((o) => o.scope === 'admin').map((o) => `${o.method} ${o.path}`);
  for (const prefix of ['/v1/templates', '/v1/types', '/v1/categories', '/v1/delivery', '/v1/audit', '/v1/dlq', '/v1/api-keys', '/v1/notifications:bulkCancel']) {
    expect(admin.filter((o) => o.split(' ')[1].startsWith(prefix)).length).toBeGreaterThan(0);
  }
  expect(admin).toContain('POST /v1/notifications/x/redrive');
  const client = operations.filter((o) => o.scope === 'client').map((o) => `${o.method} ${o.path}`);
  expect(client).toEqual(expect.arrayContaining(['POST /v1/notifications', 'GET /v1/notifications/x', 'DELETE /v1/notifications/x', 'POST /v1/users/scope-user/webhooks']));
});

test('every /v1 route: 401 without a key, 403 to a client key on admin routes, the right key passes', async () => {
  const seen: string[] = [];
  for (const { method, path, scope } of v1Operations()) {
    const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
    const without = await call(stack.url, method, path, { body });
    const withClient = await call(stack.url, method, path, { body, headers: as(clientKey) });
    const withAdmin = await call(stack.url, method, path, { body, headers: as(ADMIN_KEY) });
    seen.push(`${method} ${path} ${without.status} ${scope === 'admin' ? withClient.status : withClient.status === 401 || withClient.status === 403 ? withClient.status : 'ok'} ${withAdmin.status === 401 || withAdmin.status === 403 ? withAdmin.status : 'ok'}`);
  }
  const expected = v1Operations().map(({ method, path, scope }) => `${method} ${path} 401 ${scope === 'admin' ? 403 : 'ok'} ok`);
  expect(seen).toEqual(expected);
});

test('the caller is named by its key id in the audit log; a revoked key is refused at once', async () => {
  const admin = as(ADMIN_KEY);
  const changed = await call(stack.url, 'PATCH', '/v1/types/scoped', { body: { deliveryEnabled: false }, headers: admin });
  expect(changed.status).toBe(200);
  const audit = await call(stack.url, 'GET', '/v1/audit?subject=scoped', { headers: admin });
  expect(audit.body.items[0].actor).toMatch(/^key:[0-9a-f]{12}$/);

  // The client key works, and its made-by and id are listed; the key itself never is.
  expect((await call(stack.url, 'GET', '/v1/users/u1/targets', { headers: as(clientKey) })).status).toBe(200);
  const listed = await call(stack.url, 'GET', '/v1/api-keys', { headers: admin });
  const entry = listed.body.items.find((k: { id: string }) => k.id === clientKeyId);
  expect(entry).toMatchObject({ scope: 'client', name: 'billing service', createdBy: audit.body.items[0].actor, revokedAt: null });
  expect(JSON.stringify(listed.body)).not.toContain(clientKey);
  expect(clientKey.startsWith(entry.prefix)).toBe(true);

  const revoked = await call(stack.url, 'DELETE', `/v1/api-keys/${encodeURIComponent(clientKeyId)}`, { headers: admin });
  expect(revoked.status).toBe(200);
  expect(revoked.body.revokedAt).not.toBeNull();
  const refused = await call(stack.url, 'GET', '/v1/users/u1/targets', { headers: as(clientKey) });
  expect(refused.status).toBe(401);
  const creations = await call(stack.url, 'GET', `/v1/audit?subject=${encodeURIComponent(clientKeyId)}`, { headers: admin });
  expect(creations.body.items.map((i: { action: string }) => i.action)).toEqual(['api_key.revoke', 'api_key.create']);
});

test("each transition names the key whose request it carries out; Herald's own steps name none", async () => {
  const made = await call(stack.url, 'POST', '/v1/api-keys', { body: { scope: 'client', name: 'reminders service' }, headers: as(ADMIN_KEY) });
  const producer = { ...as(made.body.key), 'Idempotency-Key': `actor-${Date.now()}` };
  const body = { userId: 'actor-user', channels: ['webhook'], content: { body: 'later' }, scheduledAt: new Date(Date.now() + 3_600_000).toISOString() };
  const created = await call(stack.url, 'POST', '/v1/notifications', { body, headers: producer });
  expect(created.status).toBe(202);
  const id = created.body.id;
  expect((await call(stack.url, 'PATCH', `/v1/notifications/${id}`, { body: { content: { body: 'changed' } }, headers: as(made.body.key) })).status).toBe(200);
  expect((await call(stack.url, 'DELETE', `/v1/notifications/${id}`, { headers: as(ADMIN_KEY) })).status).toBe(200);
  const detail = await call(stack.url, 'GET', `/v1/notifications/${id}`, { headers: as(ADMIN_KEY) });
  // The admin key's id, as the audit log names it.
  await call(stack.url, 'PATCH', '/v1/types/actor-type', { body: { deliveryEnabled: true }, headers: as(ADMIN_KEY) });
  const adminId = (await call(stack.url, 'GET', '/v1/audit?subject=actor-type', { headers: as(ADMIN_KEY) })).body.items[0].actor;
  expect(detail.body.transitions.map((t: { to: string; reason: string; actor: string | null }) => `${t.to}(${t.reason}) by ${t.actor}`)).toEqual([
    `SCHEDULED(accepted) by ${made.body.id}`,
    `SCHEDULED(replaced_content) by ${made.body.id}`,
    `CANCELLED(requested) by ${adminId}`,
  ]);

  // Nobody asked for SENDING or FAILED: the workflow decided them.
  const due = await call(stack.url, 'POST', '/v1/notifications', {
    body: { userId: 'actor-nobody', channels: ['webhook'], content: { body: 'now' } },
    headers: { ...as(made.body.key), 'Idempotency-Key': `actor-due-${Date.now()}` },
  });
  let ended = await call(stack.url, 'GET', `/v1/notifications/${due.body.id}`, { headers: as(ADMIN_KEY) });
  for (let i = 0; i < 50 && ended.body.status !== 'FAILED'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    ended = await call(stack.url, 'GET', `/v1/notifications/${due.body.id}`, { headers: as(ADMIN_KEY) });
  }
  expect(ended.body.transitions.map((t: { to: string; actor: string | null }) => `${t.to} by ${t.actor}`)).toEqual([
    `SCHEDULED by ${made.body.id}`,
    'SENDING by null',
    'FAILED by null',
  ]);
});

test('an unknown key id is a 404 that leaves no audit entry', async () => {
  const res = await call(stack.url, 'DELETE', '/v1/api-keys/key:000000000000', { headers: as(ADMIN_KEY) });
  expect(res.status).toBe(404);
  const audit = await call(stack.url, 'GET', '/v1/audit?subject=key:000000000000', { headers: as(ADMIN_KEY) });
  expect(audit.body.items).toEqual([]);
});

test('a key over its rate limit gets 429 with Retry-After; other keys, and the open routes, carry on', async () => {
  const made = await call(stack.url, 'POST', '/v1/api-keys', { body: { scope: 'client', name: 'runaway producer' }, headers: as(ADMIN_KEY) });
  const runaway = as(made.body.key);
  const statuses = [];
  for (let i = 0; i < PER_MINUTE; i++) statuses.push((await call(stack.url, 'GET', '/v1/users/u1/targets', { headers: runaway })).status);
  expect(new Set(statuses)).toEqual(new Set([200]));

  const limited = await call(stack.url, 'GET', '/v1/users/u1/targets', { headers: runaway });
  expect(limited.status).toBe(429);
  expect(limited.body.error.code).toBe('rate_limited');
  const retryAfter = Number(limited.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(limited.headers.get('ratelimit-policy')).toContain(`q=${PER_MINUTE}; w=60`);
  // A create refused for the rate is not stored.
  const create = await call(stack.url, 'POST', '/v1/notifications', {
    body: { userId: 'u1', channels: ['webhook'], content: { body: 'over the limit' } },
    headers: { ...runaway, 'Idempotency-Key': 'rate-limited-create' },
  });
  expect(create.status).toBe(429);
  const listed = await call(stack.url, 'GET', '/v1/notifications?userId=u1', { headers: as(ADMIN_KEY) });
  expect(listed.body.items).toEqual([]);

  expect((await call(stack.url, 'GET', '/v1/users/u1/targets', { headers: as(ADMIN_KEY) })).status).toBe(200);
  expect((await call(stack.url, 'GET', '/healthz')).status).toBe(200);
});

