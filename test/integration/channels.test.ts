import { randomBytes } from 'node:crypto';
import { deleteApp, type App } from 'firebase-admin/app';
import { createFcmAdapter } from '../../src/channels/fcm';
import { fcmError, messagingVia, startFakeFcm, type FakeFcm } from '../setup/fake-fcm';
import { startPushService, type PushService } from '../setup/push-service';
import { eventually } from '../setup/http';
import { client, statusesOf } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';
import { botApiError, startTelegramServer, type FakeTelegram } from '../setup/telegram-server';
import { startWebhookReceiver, type WebhookReceiver } from '../setup/webhook-receiver';

const BOT_TOKEN = `123456:${randomBytes(16).toString('hex')}`;
const fcmToken = () => `d${randomBytes(6).toString('hex')}:APA91b${randomBytes(60).toString('base64url')}`;

describe('channels end to end: Web Push, Telegram, webhook and FCM through the whole stack', () => {
  let stack: TestStack;
  let push: PushService;
  let telegram: FakeTelegram;
  let fcm: FakeFcm;
  let fcmApp: App;
  let receiver: WebhookReceiver;
  let api: ReturnType<typeof client>;
  let n = 0;
  const user = () => `chan-${++n}`;

  beforeAll(async () => {
    [push, telegram, fcm, receiver] = await Promise.all([
      startPushService(),
      startTelegramServer({ botToken: BOT_TOKEN }),
      startFakeFcm(),
      startWebhookReceiver(),
    ]);
    const { app, messaging } = messagingVia(fcm.port, `herald-it-${randomBytes(4).toString('hex')}`);
    fcmApp = app;
    stack = await startTestStack({
      env: {
        WEB_PUSH_ALLOWED_HOSTS: new URL(push.url).host,
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        TELEGRAM_API_BASE_URL: telegram.apiBaseUrl,
        THROTTLE_BURST: '0',
        RETRY_WEBPUSH_INITIAL_INTERVAL: '200ms',
        RETRY_TELEGRAM_INITIAL_INTERVAL: '200ms',
        RETRY_FCM_INITIAL_INTERVAL: '200ms',
        RETRY_WEBHOOK_INITIAL_INTERVAL: '200ms',
        RETRY_TELEGRAM_MAX_ATTEMPTS: '3',
        RETRY_WEBPUSH_CONFIGURATION_DELAY: '1s',
        RETRY_FCM_CONFIGURATION_DELAY: '2s',
      },
      adapters: { fcm: createFcmAdapter(messaging, { rateLimitDelayMs: 2000 }) },
    });
    api = client(stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([push?.close(), telegram?.close(), fcm?.close(), receiver?.close()]);
    if (fcmApp) await deleteApp(fcmApp);
  });

  describe('Web Push', () => {
    async function subscribed() {
      const userId = user();
      const sub = push.subscribe();
      const registered = await api.post(`/v1/users/${userId}/web-push-subscriptions`, { endpoint: sub.endpoint, keys: sub.keys });
      expect(registered.status).toBe(201);
      return { userId, sub, targetId: registered.body.id as string };
    }
    const sent = (id: string) => push.received.filter((r) => r.topic === id);

    test('the push service receives a VAPID-signed request whose aes128gcm payload decrypts to the rendered text', async () => {
      const { userId } = await subscribed();
      await api.put('/v1/templates/welcome/en/webpush', { title: 'Welcome {{name}}', body: 'Hi {{name}}, your plan is ready' });
      const created = await api.create({ userId, channels: ['webpush'], template: { key: 'welcome', data: { name: 'Tom & Jerry' } } });
      expect(created.status).toBe(202);
      const done = await api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
      expect(done.status).toBe('DELIVERED');
      const [request] = sent(created.body.id);
      expect(request.vapidValid).toBe(true);
      const published = await fetch(`${stack.url}/v1/web-push/vapid-public-key`).then((r) => r.json() as Promise<{ publicKey: string }>);
      expect(request.vapidPublicKey).toBe(published.publicKey);
      expect(JSON.parse(request.plaintext!)).toMatchObject({ notificationId: created.body.id, title: 'Welcome Tom & Jerry', body: 'Hi Tom & Jerry, your plan is ready' });
      expect(request.ttl).toBe('86400');
      expect(request.urgency).toBeDefined();
      expect(done.attempts[0]).toMatchObject({ channel: 'webpush', outcome: 'delivered', httpStatus: 201, rendered: { title: 'Welcome Tom & Jerry', body: 'Hi Tom & Jerry, your plan is ready' } });
    });

    test('a template edited after acceptance to more than one record carries fails once, with no request, and keeps the subscription', async () => {
      const { userId } = await subscribed();
      await api.put('/v1/templates/grows/en/webpush', { body: 'short' });
      const scheduledAt = new Date(Date.now() + 3000).toISOString();
      const created = await api.create({ userId, channels: ['webpush'], template: { key: 'grows' }, scheduledAt });
      expect(created.status).toBe(202);
      await api.put('/v1/templates/grows/en/webpush', { body: 'x'.repeat(4000) });
      const failed = await api.waitFor(created.body.id, 'FAILED', 'DELIVERED');
      expect(failed.attempts).toEqual([expect.objectContaining({ outcome: 'permanent_error', errorCode: 'webpush_message_too_large' })]);
      expect(sent(created.body.id)).toEqual([]);
      expect((await api.targets(userId)).body.items[0]).toMatchObject({ channel: 'webpush', disabledReason: null });
    });

    test.each([404, 410])('HTTP %i: the subscription is gone — no retry, disabled, skipped by the next notification', async (status) => {
      const { userId } = await subscribed();
      push.respondWith({ status });
      const first = await api.create({ userId, channels: ['webpush'], content: { body: 'x' } });
      const failed = await api.waitFor(first.body.id, 'FAILED', 'DELIVERED');
      expect(failed.status).toBe('FAILED');
      expect(failed.attempts).toEqual([expect.objectContaining({ outcome: 'permanent_error', errorCode: 'webpush_subscription_gone', httpStatus: status })]);
      const listed = (await api.targets(userId)).body;
      expect(listed.items[0]).toMatchObject({ channel: 'webpush', disabledReason: 'webpush_subscription_gone' });
      const before = push.received.length;
      const second = await api.create({ userId, channels: ['webpush'], content: { body: 'y' } });
      expect((await api.waitFor(second.body.id, 'FAILED', 'DELIVERED')).statusReason).toBe('no_deliverable_target');
      expect(push.received.length).toBe(before);
    });

    test('HTTP 429 with Retry-After: no new request before the delay, then delivered', async () => {
      const { userId } = await subscribed();
      push.respondWith({ status: 429, headers: { 'retry-after': '2' } });
      const created = await api.create({ userId, channels: ['webpush'], content: { body: 'later' } });
      await api.waitFor(created.body.id, 'DELIVERED');
      const [first, second] = sent(created.body.id);
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(2000);
    });

    test('HTTP 500 is retried with backoff until the service accepts', async () => {
      const { userId } = await subscribed();
      push.respondWith({ status: 500 });
      const created = await api.create({ userId, channels: ['webpush'], content: { body: 'again' } });
      const done = await api.waitFor(created.body.id, 'DELIVERED');
      expect(done.attempts.map((a: any) => [a.outcome, a.httpStatus])).toEqual([
        ['retryable_error', 500],
        ['delivered', 201],
      ]);
    });

    test('HTTP 401 is a VAPID configuration error: the subscription stays enabled, and the send is tried again after the configuration delay', async () => {
      const { userId } = await subscribed();
      push.respondWith({ status: 401 });
      const created = await api.create({ userId, channels: ['webpush'], content: { body: 'once the keys are right' } });
      const done = await api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
      expect(done.status).toBe('DELIVERED');
      expect(done.attempts.map((a: any) => [a.outcome, a.errorCode])).toEqual([
        ['configuration_error', 'webpush_vapid_rejected'],
        ['delivered', null],
      ]);
      const [first, second] = sent(created.body.id);
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1000);
      expect((await api.targets(userId)).body.items[0].disabledAt).toBeNull();
    });

    test('a subscription to an endpoint outside the allow-list is refused (SSRF guard)', async () => {
      const refused = await api.post(`/v1/users/${user()}/web-push-subscriptions`, {
        endpoint: 'https://169.254.169.254/latest/meta-data',
        keys: push.subscribe().keys,
      });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('endpoint_not_allowed');
    });
  });

  describe('Telegram', () => {
    async function chat() {
      const userId = user();
      const chatId = String(100000 + n);
      expect((await api.post(`/v1/users/${userId}/telegram-chats`, { chatId })).status).toBe(201);
      return { userId, chatId };
    }
    const callsTo = (chatId: string) => telegram.calls.filter((c) => String(c.chatId) === chatId);

    test('sendMessage reaches the chat; a 429 retry_after is honoured before the next request', async () => {
      const { userId, chatId } = await chat();
      telegram.respondWith(botApiError(429, 'Too Many Requests: retry after 2', { retry_after: 2 }));
      const created = await api.create({ userId, channels: ['telegram'], content: { title: 'Reminder', body: 'Lights out' } });
      await api.waitFor(created.body.id, 'DELIVERED');
      const [first, second] = callsTo(chatId);
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(2000);
      expect(second.token).toBe(BOT_TOKEN);
      expect(String(second.text)).toContain('Lights out');
    });

    test('a provider that keeps failing gets exactly the policy\'s attempts, numbered 1 to 3, with the backoff growing', async () => {
      // The first attempt is made by the due-time activity, the rest by send activities: together they
      // must still be one policy (RETRY_TELEGRAM_MAX_ATTEMPTS=3, 200 ms doubling).
      const { userId, chatId } = await chat();
      const down = botApiError(500, 'Internal Server Error');
      // Three failures queued: a fourth attempt would be answered 200 and end DELIVERED.
      telegram.respondWith(down, down, down);
      const created = await api.create({ userId, channels: ['telegram'], content: { body: 'are you there?' } });
      const failed = await api.waitFor(created.body.id, 'FAILED', 'DELIVERED');
      expect(failed.status).toBe('FAILED');
      expect(failed.attempts.map((a: any) => [a.attempt, a.outcome])).toEqual([
        [1, 'retryable_error'],
        [2, 'retryable_error'],
        [3, 'retryable_error'],
      ]);
      const [first, second, third, ...more] = callsTo(chatId);
      expect(more).toEqual([]);
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(200);
      expect(third.receivedAt - second.receivedAt).toBeGreaterThanOrEqual(400);
    });

    test('403 "bot was blocked by the user" fails without retry and disables the chat', async () => {
      const { userId, chatId } = await chat();
      telegram.respondWith(botApiError(403, 'Forbidden: bot was blocked by the user'));
      const created = await api.create({ userId, channels: ['telegram'], content: { body: 'hello?' } });
      const failed = await api.waitFor(created.body.id, 'FAILED');
      expect(callsTo(chatId)).toHaveLength(1);
      expect(failed.attempts[0]).toMatchObject({ errorCode: 'telegram_blocked' });
      expect(JSON.stringify(failed)).not.toContain(BOT_TOKEN);
    });
  });

  test('webhook: 429 with Retry-After is honoured before the next request', async () => {
    const userId = user();
    await api.registerWebhook(userId, receiver.url);
    receiver.respondWith({ status: 429, headers: { 'retry-after': '2' } });
    const created = await api.create({ userId, channels: ['webhook'], content: { body: 'patience' } });
    await api.waitFor(created.body.id, 'DELIVERED');
    const mine = receiver.received.filter((r) => r.headers['webhook-id'] === created.body.id);
    expect(mine[1].receivedAt - mine[0].receivedAt).toBeGreaterThanOrEqual(2000);
  });

  describe('FCM (real firebase-admin, fake transport)', () => {
    const unregistered = () => fcmError(404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.');
    async function devices(count: number) {
      const userId = user();
      const tokens = Array.from({ length: count }, fcmToken);
      for (const token of tokens) expect((await api.post(`/v1/users/${userId}/devices`, { token, platform: 'android' })).status).toBe(201);
      return { userId, tokens };
    }
    const requestsFor = (token: string) => fcm.requests.filter((r) => r.body.message.token === token);

    test('multi-device fan-out with partial failure: delivered, the failure recorded per token, the dead token skipped next time', async () => {
      const { userId, tokens } = await devices(2);
      fcm.respondTo(tokens[1], unregistered());
      const created = await api.create({ userId, channels: ['fcm'], content: { title: 'Hi', body: 'two phones' } });
      const done = await api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
      expect(done.status).toBe('DELIVERED');
      const outcomes = done.attempts.map((a: any) => [a.targetId, a.outcome, a.errorCode]).sort();
      expect(outcomes).toHaveLength(2);
      expect(outcomes.map((o: string[]) => o[1]).sort()).toEqual(['delivered', 'permanent_error']);
      expect(requestsFor(tokens[0])[0].body.message.android.collapse_key).toBe(created.body.id);
      const listed = (await api.targets(userId)).body;
      expect(listed.items.map((t: any) => t.disabledReason).sort()).toEqual(['fcm_token_unregistered', null].sort());
      expect(JSON.stringify(listed)).not.toContain(tokens[1]);

      const next = await api.create({ userId, channels: ['fcm'], content: { body: 'again' } });
      await api.waitFor(next.body.id, 'DELIVERED');
      expect(requestsFor(tokens[1])).toHaveLength(1);
      expect(requestsFor(tokens[0])).toHaveLength(2);
    });

    test('a quota error waits the configured delay before the next attempt', async () => {
      const { userId, tokens } = await devices(1);
      fcm.respondTo(tokens[0], fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded'));
      const created = await api.create({ userId, channels: ['fcm'], content: { body: 'slowly' } });
      await api.waitFor(created.body.id, 'DELIVERED');
      const [first, second] = requestsFor(tokens[0]);
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(2000);
    });

    test('a credentials incident (mismatched-credential) fails nothing and disables no token; once fixed, the pending pushes deliver', async () => {
      const broken = () => fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', 'SenderId mismatch');
      const phones = [await devices(1), await devices(1)];
      for (const { tokens } of phones) fcm.respondTo(tokens[0], broken(), broken());
      const created = await Promise.all(phones.map(({ userId }) => api.create({ userId, channels: ['fcm'], content: { body: 'after the fix' } })));
      // While broken: each push has been refused once and waits, still SENDING, its token enabled.
      await eventually(
        async () => phones.map(({ tokens }) => requestsFor(tokens[0]).length),
        (counts) => counts.every((c) => c >= 1),
        { what: 'a first FCM request for each push' },
      );
      for (const { body } of created) expect((await api.get(body.id)).body.status).toBe('SENDING');
      for (const { userId } of phones) expect((await api.targets(userId)).body.items[0].disabledAt).toBeNull();
      // "Fixed" after the second refusal: the next attempt delivers.
      for (const [i, { body }] of created.entries()) {
        const done = await api.waitFor(body.id, 'DELIVERED', 'FAILED');
        expect(done.status).toBe('DELIVERED');
        expect(done.attempts.map((a: any) => [a.outcome, a.errorCode])).toEqual([
          ['configuration_error', 'fcm_mismatched_credential'],
          ['configuration_error', 'fcm_mismatched_credential'],
          ['delivered', null],
        ]);
        const [first, second] = requestsFor(phones[i].tokens[0]);
        expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(2000);
        expect((await api.targets(phones[i].userId)).body.items[0].disabledAt).toBeNull();
      }
    });

    test('fallback routing: FCM fails permanently, the webhook delivers, both attempts are recorded', async () => {
      const { userId, tokens } = await devices(1);
      await api.registerWebhook(userId, receiver.url);
      fcm.respondTo(tokens[0], unregistered());
      const created = await api.create({ userId, channels: ['fcm', 'webhook'], routing: 'fallback', content: { body: 'one way or another' } });
      const done = await api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
      expect(done.status).toBe('DELIVERED');
      expect(done.attempts.map((a: any) => [a.channel, a.outcome])).toEqual([
        ['fcm', 'permanent_error'],
        ['webhook', 'delivered'],
      ]);
      expect(statusesOf(done)).toEqual(['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
    });

    test('fallback routing stops at the first channel that delivers', async () => {
      const { userId } = await devices(1);
      await api.registerWebhook(userId, receiver.url);
      const created = await api.create({ userId, channels: ['fcm', 'webhook'], routing: 'fallback', content: { body: 'first wins' } });
      const done = await api.waitFor(created.body.id, 'DELIVERED');
      expect(done.attempts.map((a: any) => a.channel)).toEqual(['fcm']);
      expect(receiver.received.filter((r) => r.headers['webhook-id'] === created.body.id)).toHaveLength(0);
    });
  });

  describe('templates', () => {
    test('locale fallback: ko-KR → ko → the default locale', async () => {
      await api.put('/v1/templates/greet/ko/default', { body: '안녕하세요 {{name}}' });
      await api.put('/v1/templates/greet/en/default', { body: 'Hello {{name}}' });
      const korean = user();
      await api.put(`/v1/users/${korean}/preferences`, { locale: 'ko-KR' });
      await api.registerWebhook(korean, receiver.url);
      const ko = await api.create({ userId: korean, channels: ['webhook'], template: { key: 'greet', data: { name: '민수' } } });
      const french = user();
      await api.registerWebhook(french, receiver.url);
      const fr = await api.create({ userId: french, channels: ['webhook'], template: { key: 'greet', locale: 'fr-FR', data: { name: 'Zoé' } } });
      expect((await api.waitFor(ko.body.id, 'DELIVERED')).attempts[0].rendered.body).toBe('안녕하세요 민수');
      expect((await api.waitFor(fr.body.id, 'DELIVERED')).attempts[0].rendered.body).toBe('Hello Zoé');
    });

    test('an unknown template is refused at create time with 422 and nothing is stored', async () => {
      const userId = user();
      const refused = await api.create({ userId, channels: ['webhook'], template: { key: 'no-such-template' } });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('template_not_found');
      expect(refused.body.error.message).toContain('no-such-template');
      expect((await api.list(`userId=${userId}`)).body.items).toEqual([]);
    });

    test('a template that is not valid mustache is refused', async () => {
      const bad = await api.put('/v1/templates/broken/en/default', { body: 'Hello {{name' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/mustache/);
    });
  });
});
