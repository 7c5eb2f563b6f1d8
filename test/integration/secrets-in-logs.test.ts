import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { deleteApp, type App } from 'firebase-admin/app';
import { generateVAPIDKeys } from 'web-push';
import { createFcmAdapter } from '../../src/channels/fcm';
import { createLogger } from '../../src/logger';
import { fcmError, messagingVia, startFakeFcm, type FakeFcm } from '../setup/fake-fcm';
import { call } from '../setup/http';
import { startPushService, type PushService } from '../setup/push-service';
import { client } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';
import { botApiError, startTelegramServer, type FakeTelegram } from '../setup/telegram-server';
import { startWebhookReceiver, type WebhookReceiver } from '../setup/webhook-receiver';
import { startFakeSolapi, type FakeSolapi } from '../setup/fake-solapi';
import { startMailpit, type Mailpit } from '../setup/mailpit';

/*
 * Secrets never reach the logs: a run over every channel at debug level — deliveries, retries,
 * permanent failures, configuration errors, a refused API key — and then every token, key, endpoint
 * and secret it used is searched for in everything that was logged.
 */
const API_KEY = `secret-api-key-${randomBytes(12).toString('hex')}`;
const WRONG_KEY = `wrong-api-key-${randomBytes(12).toString('hex')}`;
const BOT_TOKEN = `987654:${randomBytes(16).toString('hex')}`;
const VAPID = generateVAPIDKeys();
const SOLAPI_ACCOUNT = { apiKey: 'NCSSECRETSTEST01', apiSecret: `solapi-secret-${randomBytes(12).toString('hex')}`, sender: '0212345678', pfId: 'KA01PF-secrets', templates: { TPL_SECRETS: '안내 #{code}' } };
const SMTP_PASSWORD = `smtp-password-${randomBytes(12).toString('hex')}`;
const UNSUBSCRIBE_KEY = randomBytes(32).toString('base64url');
const fcmToken = () => `d${randomBytes(6).toString('hex')}:APA91b${randomBytes(60).toString('base64url')}`;

const logged: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logged.push(chunk.toString('utf8'));
    done();
  },
});

let stack: TestStack;
let push: PushService;
let telegram: FakeTelegram;
let fcm: FakeFcm;
let fcmApp: App;
let receiver: WebhookReceiver;
let solapi: FakeSolapi;
let mailpit: Mailpit;
/** Every secret the run handed Herald: none may appear in any log line. */
const secrets: Record<string, string> = { 'API key': API_KEY, 'refused API key': WRONG_KEY, 'bot token': BOT_TOKEN, 'VAPID private key': VAPID.privateKey, 'SOLAPI API secret': SOLAPI_ACCOUNT.apiSecret, 'SMTP password': SMTP_PASSWORD, 'unsubscribe signing key': UNSUBSCRIBE_KEY };

beforeAll(async () => {
  [push, telegram, fcm, receiver, solapi, mailpit] = await Promise.all([
    startPushService(),
    startTelegramServer({ botToken: BOT_TOKEN }),
    startFakeFcm(),
    startWebhookReceiver(),
    startFakeSolapi(SOLAPI_ACCOUNT),
    // Mail for @herald.test only (550 for any other address); chaos mode puts AUTH on offer, so the password is used.
    startMailpit({ allowedRecipients: '@herald\\.test$', chaos: true }),
  ]);
  const { app, messaging } = messagingVia(fcm.port, `herald-secrets-${randomBytes(4).toString('hex')}`);
  fcmApp = app;
  stack = await startTestStack({
    log: createLogger('debug', 'test', 'json', sink),
    env: {
      API_KEYS: API_KEY,
      VAPID_PUBLIC_KEY: VAPID.publicKey,
      VAPID_PRIVATE_KEY: VAPID.privateKey,
      WEB_PUSH_ALLOWED_HOSTS: new URL(push.url).host,
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      TELEGRAM_API_BASE_URL: telegram.apiBaseUrl,
      SOLAPI_API_KEY: SOLAPI_ACCOUNT.apiKey,
      SOLAPI_API_SECRET: SOLAPI_ACCOUNT.apiSecret,
      SOLAPI_BASE_URL: solapi.url,
      SMS_SENDER: SOLAPI_ACCOUNT.sender,
      KAKAO_PF_ID: SOLAPI_ACCOUNT.pfId,
      SMTP_URL: mailpit.smtpUrl.replace('//', `//herald:${SMTP_PASSWORD}@`),
      EMAIL_FROM: 'Herald <no-reply@herald.test>',
      UNSUBSCRIBE_SIGNING_KEY: UNSUBSCRIBE_KEY,
      THROTTLE_BURST: '0',
      ...Object.fromEntries(['WEBHOOK', 'WEBPUSH', 'FCM', 'TELEGRAM', 'SMS', 'KAKAO', 'EMAIL'].flatMap((c) => [[`RETRY_${c}_INITIAL_INTERVAL`, '100ms'], [`RETRY_${c}_MAX_ATTEMPTS`, '2'], [`RETRY_${c}_CONFIGURATION_DELAY`, '200ms']])),
    },
    adapters: { fcm: createFcmAdapter(messaging, { rateLimitDelayMs: 200 }) },
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await Promise.all([push?.close(), telegram?.close(), fcm?.close(), receiver?.close(), solapi?.close(), mailpit?.close()]);
  if (fcmApp) await deleteApp(fcmApp);
});

test('no token, key, endpoint or secret of a run over every channel, failures included, is in the logs', async () => {
  const api = client(stack, { apiKey: API_KEY });
  const finished: Promise<unknown>[] = [];
  const send = async (userId: string, channel: string) => {
    // Alimtalk sends only approved templates.
    const what = channel === 'kakao' ? { template: { key: 'secrets', locale: 'ko', data: { code: '7' } } } : { content: { title: 'Hi', body: 'secrets test' } };
    const created = await api.create({ userId, channels: [channel], ...what });
    expect(created.status).toBe(202);
    finished.push(api.waitFor(created.body.id, 'DELIVERED', 'FAILED').then((d) => ({ userId, status: d.status })));
  };

  // Webhooks: one retried after a 500, one gone (410).
  for (const [userId, answer] of [['sec-hook-retry', 500], ['sec-hook-gone', 410]] as const) {
    const url = `${receiver.url}/private-path-${randomBytes(8).toString('hex')}`;
    const registered = await api.registerWebhook(userId, url);
    secrets[`webhook URL of ${userId}`] = url;
    secrets[`signing secret of ${userId}`] = registered.body.secret;
    receiver.respondWith({ status: answer });
    await send(userId, 'webhook');
    // One at a time: the receiver's answers are a queue.
    await Promise.all(finished);
  }
  // Web Push: one delivered, one gone (410), one refused by VAPID (401: a configuration error).
  for (const [userId, answers] of [['sec-push-ok', []], ['sec-push-gone', [{ status: 410 }]], ['sec-push-vapid', [{ status: 401 }, { status: 401 }]]] as const) {
    const sub = push.subscribe();
    secrets[`push endpoint of ${userId}`] = sub.endpoint;
    secrets[`p256dh of ${userId}`] = sub.keys.p256dh;
    secrets[`auth secret of ${userId}`] = sub.keys.auth;
    expect((await api.post(`/v1/users/${userId}/web-push-subscriptions`, { endpoint: sub.endpoint, keys: sub.keys })).status).toBe(201);
    push.respondWith(...answers);
    await send(userId, 'webpush');
    await Promise.all(finished);
  }
  // FCM: one delivered, one unregistered, one with a credential mismatch (configuration).
  for (const [userId, answer] of [
    ['sec-fcm-ok', undefined],
    ['sec-fcm-gone', fcmError(404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.')],
    ['sec-fcm-config', fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', 'SenderId mismatch')],
  ] as const) {
    const token = fcmToken();
    secrets[`FCM token of ${userId}`] = token;
    expect((await api.post(`/v1/users/${userId}/devices`, { token, platform: 'android' })).status).toBe(201);
    if (answer) fcm.respondTo(token, answer, answer);
    await send(userId, 'fcm');
  }
  // Telegram: one delivered, one that the bot may not write to (403).
  for (const [userId, answer] of [['sec-tg-ok', undefined], ['sec-tg-blocked', botApiError(403, 'Forbidden: bot was blocked by the user')]] as const) {
    expect((await api.post(`/v1/users/${userId}/telegram-chats`, { chatId: 424242 })).status).toBe(201);
    if (answer) telegram.respondWith(answer);
    await send(userId, 'telegram');
    await Promise.all(finished);
  }
  // SMS: one delivered, one to a number the carrier says does not exist (3010).
  for (const [userId, number, answer] of [['sec-sms-ok', '010-7777-0001', undefined], ['sec-sms-gone', '010-7777-0002', '3010']] as const) {
    expect((await api.post(`/v1/users/${userId}/sms-numbers`, { number })).status).toBe(201);
    if (answer) solapi.answerFor(number.replace(/-/g, ''), answer);
    await send(userId, 'sms');
    await Promise.all(finished);
  }
  // KakaoTalk: one delivered, one to a number that is not a KakaoTalk user (3104).
  expect((await api.put('/v1/templates/secrets/ko/kakao', { body: '안내 {{code}}', providerTemplateId: 'TPL_SECRETS' })).status).toBe(201);
  for (const [userId, number, answer] of [['sec-kakao-ok', '010-7777-0003', undefined], ['sec-kakao-gone', '010-7777-0004', '3104']] as const) {
    expect((await api.post(`/v1/users/${userId}/kakao-numbers`, { number })).status).toBe(201);
    if (answer) solapi.answerFor(number.replace(/-/g, ''), answer, 'ATA');
    await send(userId, 'kakao');
    await Promise.all(finished);
  }
  // Email: one delivered (its unsubscribe link is signed), one refused by the mail server (550).
  for (const [userId, address] of [['sec-mail-ok', 'sec-mail-ok@herald.test'], ['sec-mail-gone', 'sec-mail-gone@elsewhere.test']] as const) {
    expect((await api.post(`/v1/users/${userId}/email-addresses`, { address })).status).toBe(201);
    await send(userId, 'email');
  }
  // A caller with a wrong key.
  expect((await call(stack.url, 'GET', '/v1/users/sec-hook-retry/targets', { headers: { 'x-api-key': WRONG_KEY } })).status).toBe(401);

  const outcomes = (await Promise.all(finished)) as { userId: string; status: string }[];
  expect(Object.fromEntries(outcomes.map((o) => [o.userId, o.status]))).toEqual({
    'sec-hook-retry': 'DELIVERED',
    'sec-hook-gone': 'FAILED',
    'sec-push-ok': 'DELIVERED',
    'sec-push-gone': 'FAILED',
    'sec-push-vapid': 'FAILED',
    'sec-fcm-ok': 'DELIVERED',
    'sec-fcm-gone': 'FAILED',
    'sec-fcm-config': 'FAILED',
    'sec-tg-ok': 'DELIVERED',
    'sec-tg-blocked': 'FAILED',
    'sec-sms-ok': 'DELIVERED',
    'sec-sms-gone': 'FAILED',
    'sec-kakao-ok': 'DELIVERED',
    'sec-kakao-gone': 'FAILED',
    'sec-mail-ok': 'DELIVERED',
    'sec-mail-gone': 'FAILED',
  });
  expect(await mailpit.messagesTo('sec-mail-ok@herald.test')).toHaveLength(1);

  // The logs said something about each of those sends: the search below is not over an empty page.
  const text = logged.join('');
  for (const code of ['webhook_server_error', 'webhook_gone', 'webpush_subscription_gone', 'webpush_vapid_rejected', 'fcm_token_unregistered', 'fcm_mismatched_credential', 'sms_status_3010', 'kakao_status_3104', 'email_address_rejected']) {
    expect(text).toContain(code);
  }
  const leaked = Object.entries(secrets).filter(([, value]) => text.includes(value));
  expect(leaked.map(([what]) => what)).toEqual([]);
}, 180_000);
