import { notifications } from '../../drizzle/schema';
import { call } from '../setup/http';
import { startTestStack, type TestStack } from '../setup/stack';

const valid = { userId: 'u1', channels: ['webhook'], content: { body: 'hello' } };

describe('bad input to POST /v1/notifications', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ database: 'pglite' });
  });
  afterAll(() => stack?.stop());

  const post = (options: NonNullable<Parameters<typeof call>[3]>, key: string | null = 'key-1') =>
    call(stack.url, 'POST', '/v1/notifications', {
      ...options,
      headers: { ...(key ? { 'Idempotency-Key': key } : {}), ...options.headers },
    });

  const cases: Array<[name: string, send: () => ReturnType<typeof post>, status: number, code: string, message: RegExp]> = [
    ['missing Idempotency-Key', () => post({ body: valid }, null), 400, 'idempotency_key_missing', /Idempotency-Key/],
    ['over-long Idempotency-Key', () => post({ body: valid }, 'k'.repeat(300)), 400, 'idempotency_key_invalid', /255/],
    ['empty Idempotency-Key beside a body key', () => post({ body: { ...valid, idempotencyKey: 'body-key' } }, ' '), 400, 'idempotency_key_invalid', /empty/],
    [
      'malformed scheduledAt',
      () => post({ body: { ...valid, scheduledAt: 'tomorrow at nine' } }),
      400,
      'validation_failed',
      /scheduledAt: .*ISO-8601/,
    ],
    [
      'scheduledAt without a time zone',
      () => post({ body: { ...valid, scheduledAt: '2027-01-01T09:00:00' } }),
      400,
      'validation_failed',
      /scheduledAt/,
    ],
    ['unknown channel', () => post({ body: { ...valid, channels: ['carrier-pigeon'] } }), 400, 'validation_failed', /channels\.0: channel must be one of webhook, fcm/],
    ['no channel', () => post({ body: { ...valid, channels: [] } }), 400, 'validation_failed', /channels: .*at least one/],
    ['userId of the wrong type', () => post({ body: { ...valid, userId: 42 } }), 400, 'validation_failed', /userId: userId must be a string/],
    ['a body over 4,000 characters', () => post({ body: { ...valid, content: { body: 'x'.repeat(4001) } } }), 400, 'validation_failed', /content\.body: body must be at most 4000 characters/],
    ['content of the wrong type', () => post({ body: { ...valid, content: 'hello' } }), 400, 'validation_failed', /content/],
    ['an unknown field', () => post({ body: { ...valid, sendAt: 'now' } }), 400, 'validation_failed', /sendAt/],
    [
      'expiresAt before scheduledAt',
      () => post({ body: { ...valid, scheduledAt: '2030-01-01T00:00:00Z', expiresAt: '2029-01-01T00:00:00Z' } }),
      400,
      'validation_failed',
      /expiresAt must be after scheduledAt|within 366 days/,
    ],
    ['a body that is not JSON', () => post({ raw: '{"userId": "u1",', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json', /not valid JSON/],
    ['a JSON array', () => post({ body: [valid] }), 400, 'validation_failed', /object/],
    ['JSON null', () => post({ raw: 'null', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json', /JSON/],
    ['a form-encoded body', () => post({ raw: 'userId=u1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type', /JSON/],
    ['no body at all', () => post({}), 400, 'validation_failed', /JSON object/],
    ['a body over 256 kB', () => post({ body: { ...valid, content: { body: 'x'.repeat(300_000) } } }), 413, 'payload_too_large', /too large/i],
  ];

  test.each(cases.map(([name, send, status, code, message]) => ({ name, send, status, code, message })))(
    '$name → $status $code, naming the problem',
    async ({ send, status, code, message }) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toMatch(message);
    expect(JSON.stringify(response.body)).not.toMatch(/\bat .*\.ts:\d+/);
    },
  );

  test('a channel without credentials on this deployment is refused with 422 channel_not_configured', async () => {
    const response = await post({ body: { ...valid, channels: ['telegram'] } }, 'no-telegram');
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({ code: 'channel_not_configured', details: { channels: ['telegram'] } });
  });

  test('none of the refused requests created anything', async () => {
    expect(await stack.database.db.select().from(notifications)).toEqual([]);
  });

  test('unknown notification and unknown route answer 404 JSON', async () => {
    const missing = await call(stack.url, 'GET', '/v1/notifications/ntf_nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('notification_not_found');
    const route = await call(stack.url, 'GET', '/v2/whatever');
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe('not_found');
  });

  test('webhook registration refuses a non-http URL and a malformed secret', async () => {
    const ftp = await call(stack.url, 'POST', '/v1/users/u1/webhooks', { body: { url: 'ftp://example.com/x' } });
    expect(ftp.status).toBe(400);
    expect(ftp.body.error.message).toMatch(/url/);
    const weak = await call(stack.url, 'POST', '/v1/users/u1/webhooks', { body: { url: 'https://example.com/h', secret: 'hunter2' } });
    expect(weak.status).toBe(400);
    expect(weak.body.error.message).toMatch(/whsec_/);
  });
});

describe('API keys', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ database: 'pglite', env: { API_KEYS: 'first-key,second-key' } });
  });
  afterAll(() => stack?.stop());

  test('requests without a valid key get 401; either configured key works; health stays open', async () => {
    expect((await call(stack.url, 'GET', '/v1/notifications/ntf_x')).status).toBe(401);
    expect((await call(stack.url, 'GET', '/v1/notifications/ntf_x', { headers: { 'x-api-key': 'wrong' } })).body.error.code).toBe(
      'unauthenticated',
    );
    expect((await call(stack.url, 'GET', '/v1/notifications/ntf_x', { headers: { 'x-api-key': 'second-key' } })).status).toBe(404);
    expect((await call(stack.url, 'GET', '/v1/notifications/ntf_x', { headers: { authorization: 'Bearer first-key' } })).status).toBe(404);
    expect((await call(stack.url, 'GET', '/healthz')).status).toBe(200);
  });
});
