import { call, type ApiResponse } from '../setup/http';
import { client, inSeconds } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';

/*
 * "No input to any endpoint yields a 500; every 4xx body names the problem."
 * Every route in src/api gets hostile bodies, fields, path parameters and query strings. A new
 * route belongs in BODY_ROUTES (JSON body) and PATH_ROUTES (path parameters) below.
 */

const HOSTILE_VALUES: Record<string, unknown> = {
  null: null,
  number: 42,
  boolean: true,
  array: ['x'],
  object: { nested: { deeper: 1 } },
  'empty string': '',
  'huge string': 'x'.repeat(100_000),
  'NUL character': 'a\u0000b',
  'lone surrogate': 'a\ud800b',
  unicode: 'ﷺ 🔔 \u202egnirts desrever',
  'path traversal': '../../etc/passwd',
  'SQL fragment': "' or 1=1 --",
  'broken mustache': '{{#open}} {{',
  'a date in year 0': '0000-01-01T00:00:00Z',
};

/** Bodies that are not what any route wants; none may be accepted. */
const HOSTILE_BODIES: Array<[name: string, raw: string, contentType: string]> = [
  ['invalid JSON', '{"a": ', 'application/json'],
  ['JSON null', 'null', 'application/json'],
  ['a JSON array', '[1, 2]', 'application/json'],
  ['a JSON string', '"hello"', 'application/json'],
  ['a JSON number', '42', 'application/json'],
  ['JSON sent as text/plain', '{"a": 1}', 'text/plain'],
  ['a form-encoded body', 'a=1&b=2', 'application/x-www-form-urlencoded'],
  ['JSON in an unsupported charset', '{"a": 1}', 'application/json; charset=ibm-1047'],
  ['deeply nested JSON', `${'['.repeat(50_000)}${']'.repeat(50_000)}`, 'application/json'],
  ['a body over the size limit', JSON.stringify({ a: 'x'.repeat(300_000) }), 'application/json'],
  ['a __proto__ key', '{"__proto__": {"admin": true}}', 'application/json'],
];

const WEB_PUSH = { endpoint: 'https://fcm.googleapis.com/fcm/send/hostile', keys: { p256dh: 'B'.repeat(87), auth: 'a'.repeat(22) } };

/** Every route that reads a JSON body: a valid body, and the fields to attack one at a time. */
const BODY_ROUTES: Array<{ method: string; path: string; valid: () => Record<string, unknown>; fields: string[] }> = [
  {
    method: 'POST',
    path: '/v1/notifications',
    valid: () => ({ userId: 'hostile-user', channels: ['webhook'], content: { body: 'hi' }, scheduledAt: inSeconds(3600) }),
    fields: ['userId', 'type', 'category', 'channels', 'channels.0', 'routing', 'scheduledAt', 'expiresAt', 'content', 'content.title', 'content.body']
      .concat(['content.data', 'content.data.key', 'content.url', 'collapseKey', 'metadata', 'metadata.key', 'idempotencyKey']),
  },
  {
    method: 'POST',
    path: '/v1/notifications',
    valid: () => ({ userId: 'hostile-user', channels: ['webhook'], template: { key: 'hostile-template' }, scheduledAt: inSeconds(3600) }),
    fields: ['template', 'template.key', 'template.locale', 'template.data', 'template.data.key'],
  },
  {
    // Against a pending notification of its own (see `settled`), since an accepted change alters it.
    method: 'PATCH',
    path: '/v1/notifications/:pending',
    valid: () => ({ scheduledAt: inSeconds(7200), content: { body: 'changed' } }),
    fields: ['scheduledAt', 'content', 'content.body', 'content.title', 'content.data', 'content.data.key', 'content.url'],
  },
  {
    method: 'POST',
    path: '/v1/notifications:bulkCancel',
    valid: () => ({ filter: { userId: 'nobody-at-all' } }),
    fields: ['filter', 'filter.userId', 'filter.type', 'filter.createdFrom', 'filter.createdTo', 'filter.scheduledFrom', 'filter.scheduledTo', 'confirm', 'limit'],
  },
  {
    method: 'PUT',
    path: '/v1/users/hostile-user/preferences',
    valid: () => ({
      timeZone: 'Europe/Berlin',
      quietHours: { start: '22:00', end: '07:00' },
      optedOutCategories: ['promo'],
      preferredChannels: ['webhook'],
      disabledChannels: { promo: ['webhook'] },
      locale: 'de',
    }),
    fields: ['timeZone', 'quietHours', 'quietHours.start', 'quietHours.end', 'optedOutCategories', 'optedOutCategories.0', 'preferredChannels', 'preferredChannels.0', 'disabledChannels', 'disabledChannels.promo', 'locale'],
  },
  { method: 'POST', path: '/v1/users/hostile-user/activity', valid: () => ({}), fields: ['at'] },
  { method: 'POST', path: '/v1/users/hostile-user/webhooks', valid: () => ({ url: 'https://example.com/hook' }), fields: ['url', 'secret', 'label'] },
  { method: 'POST', path: '/v1/users/hostile-user/devices', valid: () => ({ token: 't'.repeat(40) }), fields: ['token', 'platform', 'label'] },
  {
    method: 'POST',
    path: '/v1/users/hostile-user/web-push-subscriptions',
    valid: () => structuredClone(WEB_PUSH),
    fields: ['endpoint', 'expirationTime', 'keys', 'keys.p256dh', 'keys.auth', 'label'],
  },
  { method: 'POST', path: '/v1/users/hostile-user/telegram-chats', valid: () => ({ chatId: '12345' }), fields: ['chatId', 'label'] },
  { method: 'PUT', path: '/v1/templates/hostile-template/en/default', valid: () => ({ body: 'Hello {{name}}' }), fields: ['title', 'body'] },
  { method: 'PUT', path: '/v1/types/hostile-type', valid: () => ({}), fields: ['activeWindowMinutes', 'replaceWindowMinutes', 'deliveryEnabled'] },
  { method: 'PATCH', path: '/v1/types/hostile-type', valid: () => ({ deliveryEnabled: true }), fields: ['activeWindowMinutes', 'replaceWindowMinutes', 'deliveryEnabled'] },
  { method: 'PUT', path: '/v1/categories/hostile-category', valid: () => ({ quietHours: 'defer' }), fields: ['quietHours'] },
  { method: 'PUT', path: '/v1/delivery', valid: () => ({ enabled: true }), fields: ['enabled'] },
  // Bodies are checked before the notification is looked up: a valid one meets a 404 here.
  { method: 'POST', path: '/v1/notifications/ntf_not_a_dead_letter/redrive', valid: () => ({ reason: 'because', scheduledAt: inSeconds(60) }), fields: ['reason', 'scheduledAt'] },
  { method: 'POST', path: '/v1/notifications/ntf_not_a_dead_letter/discard', valid: () => ({ reason: 'because' }), fields: ['reason'] },
  // Dry runs (no confirm): they only count.
  {
    method: 'POST',
    path: '/v1/dlq:redrive',
    valid: () => ({ filter: { type: 'nothing-failed-here' }, reason: 'because', scheduledAt: inSeconds(60) }),
    fields: ['filter', 'filter.channel', 'filter.errorType', 'filter.type', 'filter.userId', 'filter.failedFrom', 'filter.failedTo', 'reason', 'scheduledAt', 'confirm', 'limit'],
  },
  { method: 'POST', path: '/v1/dlq:discard', valid: () => ({ filter: { userId: 'nobody-at-all' }, reason: 'because' }), fields: ['filter', 'filter.userId', 'reason', 'confirm', 'limit'] },
];

const TARGET_KINDS = ['devices', 'web-push-subscriptions', 'webhooks', 'telegram-chats'];

/** Every route with path parameters; `{}` marks the attacked segment. `known` routes answer 404 to an unknown id. */
const PATH_ROUTES: Array<{ method: string; path: string; body?: unknown; known?: boolean }> = [
  { method: 'GET', path: '/v1/notifications/{}', known: true },
  { method: 'DELETE', path: '/v1/notifications/{}', known: true },
  { method: 'PATCH', path: '/v1/notifications/{}', body: { scheduledAt: inSeconds(60) }, known: true },
  { method: 'PUT', path: '/v1/users/{}/preferences', body: {} },
  { method: 'GET', path: '/v1/users/{}/preferences' },
  { method: 'POST', path: '/v1/users/{}/activity', body: {} },
  { method: 'GET', path: '/v1/users/{}/targets' },
  { method: 'POST', path: '/v1/users/{}/webhooks', body: { url: 'https://example.com/hook' } },
  ...TARGET_KINDS.map((kind) => ({ method: 'DELETE', path: `/v1/users/hostile-user/${kind}/{}`, known: true })),
  { method: 'DELETE', path: '/v1/users/{}/webhooks/tgt_x', known: true },
  { method: 'PUT', path: '/v1/templates/{}/en/default', body: { body: 'hi' } },
  { method: 'PUT', path: '/v1/templates/key/{}/default', body: { body: 'hi' } },
  { method: 'PUT', path: '/v1/templates/key/en/{}', body: { body: 'hi' } },
  { method: 'GET', path: '/v1/templates/{}/en/default', known: true },
  { method: 'GET', path: '/v1/templates/key/{}/default', known: true },
  { method: 'PUT', path: '/v1/types/{}', body: {} },
  { method: 'PATCH', path: '/v1/types/{}', body: { deliveryEnabled: true } },
  { method: 'GET', path: '/v1/types/{}' },
  { method: 'PUT', path: '/v1/categories/{}', body: { quietHours: 'defer' } },
  { method: 'GET', path: '/v1/categories/{}' },
  { method: 'POST', path: '/v1/notifications/{}/redrive', body: { reason: 'x' }, known: true },
  { method: 'POST', path: '/v1/notifications/{}/discard', body: { reason: 'x' }, known: true },
  { method: 'GET', path: '/v1/dlq/operations/{}', known: true },
];
const HOSTILE_SEGMENTS: Record<string, string> = {
  'a NUL byte': '%00',
  'a newline': 'a%0Ab',
  'broken percent-encoding': '%E0%A4%A',
  'a lone percent sign': '100%',
  'an encoded path traversal': '..%2F..%2Fhealthz',
  'a literal ../': '../../x',
  'a very long segment': 'a'.repeat(8000),
  unicode: '%F0%9F%94%94%E2%80%AE',
  'an SQL fragment': "'%20or%201=1--",
};

const cursor = (value: unknown) => `cursor=${Buffer.from(JSON.stringify(value)).toString('base64url')}`;
const LIST_QUERIES: Record<string, string> = {
  'limit not a number': 'limit=abc',
  'limit zero': 'limit=0',
  'limit negative': 'limit=-1',
  'limit fractional': 'limit=1.5',
  'limit huge': 'limit=1e12',
  'limit empty': 'limit=',
  'limit twice': 'limit=1&limit=2',
  'limit with brackets': 'limit[]=1',
  'status empty': 'status=',
  'status lower-case': 'status=scheduled',
  'status twice': 'status=SCHEDULED&status=DELIVERED',
  'status with a NUL': 'status=SCHEDULED%00',
  'userId with a NUL': 'userId=a%00b',
  'userId huge': `userId=${'u'.repeat(8000)}`,
  'type with unicode': 'type=%F0%9F%94%94',
  'createdFrom not a date': 'createdFrom=yesterday',
  'createdFrom year 0': 'createdFrom=0000-01-01T00:00:00Z',
  'createdTo year 9999': 'createdTo=9999-12-31T23:59:59Z',
  'scheduledFrom without a zone': 'scheduledFrom=2030-01-01T00:00:00',
  'scheduledTo as a number': 'scheduledTo=1700000000',
  'an unknown parameter': 'foo=bar',
  'broken percent-encoding': 'userId=%E0%A4%A',
  'cursor garbage': 'cursor=%%%%',
  'cursor with year 0': cursor({ id: 'ntf_x', createdAt: '0000-01-01T00:00:00Z' }),
  'cursor with a negative year': cursor({ id: 'ntf_x', createdAt: '-000001-01-01T00:00:00Z' }),
  'cursor with a six-digit year': cursor({ id: 'ntf_x', createdAt: '+275760-01-01T00:00:00Z' }),
  'cursor with a NUL in the id': cursor({ id: 'a\u0000', createdAt: new Date().toISOString() }),
  'cursor with a numeric createdAt': cursor({ id: 'x', createdAt: 1e300 }),
};
const DLQ_QUERIES: Record<string, string> = {
  'an unknown channel': 'channel=carrier-pigeon',
  'errorType as SQL': "errorType='%20or%201=1--",
  'discarded not a boolean': 'discarded=maybe',
  'failedFrom year 0': 'failedFrom=0000-01-01T00:00:00Z',
  'failedTo not a date': 'failedTo=soon',
  'per a week': 'per=week',
  'cursor with a failedAt in year 0': cursor({ id: 'ntf_x', failedAt: '0000-01-01T00:00:00Z' }),
  'cursor of the notification list': cursor({ id: 'ntf_x', createdAt: new Date().toISOString() }),
};
const CANCEL_NOTES: Record<string, string> = {
  'a NUL byte': 'note=%00',
  'a lone surrogate': 'note=%ED%A0%80',
  'a long note': `note=${'n'.repeat(4000)}`,
  'two notes': 'note=a&note=b',
};

interface Case {
  name: string;
  method: string;
  path: string;
  body?: () => unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** The refusal must name this (case-insensitive) when it is a validation failure. */
  mentions?: string;
  /** The input is wrong for sure: a 2xx is as much a failure as a 500. */
  mustRefuse?: boolean;
}

/** Sets `value` at a dotted path inside `body` (`channels.0` is the first element). */
function withField(body: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  let target: any = body;
  keys.slice(0, -1).forEach((key, i) => {
    target[key] ??= /^\d+$/.test(keys[i + 1]) ? [] : {};
    target = target[key];
  });
  target[keys[keys.length - 1]] = value;
  return body;
}

const cases: Case[] = [];
for (const route of BODY_ROUTES) {
  const at = { method: route.method, path: route.path };
  for (const [name, raw, contentType] of HOSTILE_BODIES) {
    cases.push({ ...at, name: `body: ${name}`, raw, headers: { 'content-type': contentType }, mustRefuse: true });
  }
  for (const field of route.fields) {
    for (const [name, value] of Object.entries(HOSTILE_VALUES)) {
      cases.push({ ...at, name: `${field} = ${name}`, body: () => withField(route.valid(), field, value), mentions: field });
    }
  }
  cases.push({ ...at, name: 'an unknown field', body: () => ({ ...route.valid(), surprise: 1 }), mentions: 'surprise', mustRefuse: true });
}
for (const route of PATH_ROUTES) {
  const segments = { ...HOSTILE_SEGMENTS, ...(route.known ? { 'an unknown id': 'ntf_does_not_exist' } : {}) };
  for (const [name, segment] of Object.entries(segments)) {
    const body = route.body === undefined ? undefined : () => route.body;
    cases.push({ name: `path: ${name}`, method: route.method, path: route.path.replace('{}', segment), body, mustRefuse: true });
  }
}
for (const [name, query] of Object.entries(LIST_QUERIES)) cases.push({ name: `query: ${name}`, method: 'GET', path: `/v1/notifications?${query}` });
for (const [name, query] of Object.entries({ ...LIST_QUERIES, ...DLQ_QUERIES })) {
  cases.push({ name: `dead-letter query: ${name}`, method: 'GET', path: `/v1/dlq?${query}` }, { name: `dead-letter stats query: ${name}`, method: 'GET', path: `/v1/dlq/stats?${query}` });
}
for (const [name, query] of Object.entries(CANCEL_NOTES)) cases.push({ name: `cancel note: ${name}`, method: 'DELETE', path: `/v1/notifications/:pending?${query}` });
const validCreate = BODY_ROUTES[0].valid;
cases.push(
  { name: 'Idempotency-Key of only spaces', method: 'POST', path: '/v1/notifications', body: validCreate, headers: { 'Idempotency-Key': '   ' }, mentions: 'Idempotency-Key', mustRefuse: true },
  { name: 'Idempotency-Key of latin-1 bytes', method: 'POST', path: '/v1/notifications', body: validCreate, headers: { 'Idempotency-Key': 'clé-ÿ' } },
  { name: 'an unknown route', method: 'GET', path: '/v1/nothing-here', mustRefuse: true },
  { name: 'a method the route does not have', method: 'PUT', path: '/v1/notifications', body: () => ({}), mustRefuse: true },
  { name: 'GET on the bulk-cancel custom method', method: 'GET', path: '/v1/notifications:bulkCancel', mustRefuse: true },
  { name: 'the VAPID key while Web Push may be off', method: 'GET', path: '/v1/web-push/vapid-public-key' },
  { name: 'the delivery switch', method: 'GET', path: '/v1/delivery' },
  { name: 'a gzip body that is not gzip', method: 'PUT', path: '/v1/delivery', raw: '{"enabled": true}', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, mustRefuse: true },
  { name: 'an unknown content-encoding', method: 'PUT', path: '/v1/delivery', raw: '{"enabled": true}', headers: { 'content-type': 'application/json', 'content-encoding': 'snappy' }, mustRefuse: true },
);

const STACK_TRACE = /\bat [\w.<>]+ \(|\.[jt]s:\d+|node_modules|\n\s+at /;
/** A request that has not been answered by then counts as a failure (a hung client is no better off than one with a 500). */
const ANSWER_WITHIN_MS = 10_000;

describe('no input to any endpoint yields a 500; every 4xx body names the problem', () => {
  let stack: TestStack;
  let api: ReturnType<typeof client>;
  const pending: string[] = [];
  let key = 0;

  beforeAll(async () => {
    stack = await startTestStack({ database: 'postgres' });
    api = client(stack);
    // One pending notification per case that changes or cancels one, so a case never sees another's leftovers.
    const needed = cases.filter((c) => c.path.includes(':pending')).length;
    const created = await Promise.all(Array.from({ length: needed }, () => api.create(validCreate())));
    pending.push(...created.map((c) => c.body.id));
    // Wait until each workflow has recorded its acceptance and is asleep (see the report on PATCH straight after create).
    await Promise.all(pending.map((id) => api.waitUntil(id, (detail) => detail.transitions.length > 0, 'to record SCHEDULED(accepted)', 60_000)));
    await new Promise((r) => setTimeout(r, 1000));
  }, 120_000);
  afterAll(() => stack?.stop());

  async function send(c: Case): Promise<ApiResponse> {
    const path = c.path.replace(':pending', () => pending.pop()!);
    const isCreate = c.method === 'POST' && c.path === '/v1/notifications';
    const headers: Record<string, string> = { ...(isCreate && c.mentions !== 'idempotencyKey' ? { 'Idempotency-Key': `hostile-${++key}` } : {}), ...c.headers };
    return call(stack.url, c.method, path, { body: c.body?.(), raw: c.raw, headers, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) }).catch((err: Error) => {
      throw new Error(`${c.method} ${path.slice(0, 80)}: no answer (${err.name}: ${err.message})`);
    });
  }

  test.each(cases.map((c) => ({ ...c, label: `${c.method} ${c.path.length > 60 ? `${c.path.slice(0, 60)}…` : c.path} — ${c.name}` })))(
    '$label',
    async (c) => {
      const response = await send(c);
      const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
      expect(response.status).toBeLessThan(500);
      if (c.mustRefuse) expect(response.status).toBeGreaterThanOrEqual(400);
      expect(text).not.toMatch(STACK_TRACE);
      if (response.status < 400) return;
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.body.error).toEqual(expect.objectContaining({ code: expect.stringMatching(/^[a-z][a-z_]+$/), message: expect.any(String) }));
      expect(response.body.error.message.trim()).not.toBe('');
      if (c.mentions && response.body.error.code === 'validation_failed') {
        expect(response.body.error.message.toLowerCase()).toContain(c.mentions.toLowerCase());
      }
    },
    ANSWER_WITHIN_MS + 5000,
  );

  test('a PATCH straight after create answers at once, not at the due time', async () => {
    const created = await api.create(validCreate());
    const moved = await call(stack.url, 'PATCH', `/v1/notifications/${created.body.id}`, {
      body: { scheduledAt: inSeconds(7200) },
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    });
    expect(moved.status).toBe(200);
  }, ANSWER_WITHIN_MS + 5000);

  test('after all that, the service is still ready', async () => {
    expect((await call(stack.url, 'GET', '/readyz')).status).toBe(200);
  });
});
