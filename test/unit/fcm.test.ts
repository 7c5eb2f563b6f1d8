import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { deleteApp, type App } from 'firebase-admin/app';
import type { Messaging } from 'firebase-admin/messaging';
import { createFcmAdapter, fcmMessagingFromCredentials } from '../../src/channels/fcm';
import type { ChannelError, SendRequest } from '../../src/channels/types';
import { failureOf as expectFailure, NOTIFICATION_ID, sendRequest } from '../setup/channel-request';
import { fcmError, messagingVia, startFakeFcm, type FakeFcm, type FcmAnswer } from '../setup/fake-fcm';

const token = `c${randomBytes(8).toString('hex')}:APA91b${randomBytes(100).toString('base64url')}`;
const notificationId = NOTIFICATION_ID;

const request = (overrides: Partial<SendRequest> = {}) => sendRequest({ channel: 'fcm', address: token, secrets: null }, overrides);
const failureOf = (promise: Promise<unknown>) => expectFailure(promise, token);

describe('FCM adapter over firebase-admin with a fake transport', () => {
  let fcm: FakeFcm;
  let app: App;
  let messaging: Messaging;
  /** What firebase-admin itself rejected with, to show the adapter sees the real error objects. */
  const raw: unknown[] = [];
  const adapter = createFcmAdapter({
    send: (message) => {
      const pending = messaging.send(message);
      pending.catch((err: unknown) => raw.push(err));
      return pending;
    },
  });

  function failure(answer: FcmAnswer): Promise<ChannelError> {
    fcm.respondWith(answer);
    raw.length = 0;
    return failureOf(adapter.send(request()));
  }

  beforeAll(async () => {
    fcm = await startFakeFcm();
    ({ app, messaging } = messagingVia(fcm.port, `fcm-test-${process.pid}`));
  });
  afterAll(async () => {
    await deleteApp(app);
    await fcm.close();
  });

  test('sends the message with the notification id as data, Android collapse key and APNs collapse id', async () => {
    const receipt = await adapter.send(request());
    const sent = fcm.requests.at(-1)!;
    expect(sent.path).toBe('/v1/projects/herald-test/messages:send');
    expect(sent.authorization).toBe('Bearer test-access-token');
    expect(sent.body.message).toEqual({
      token,
      notification: { title: 'Shipped', body: 'Your order is on its way' },
      data: { orderId: '42', url: 'https://shop.example/orders/42', notificationId },
      android: { collapse_key: notificationId },
      apns: { headers: { 'apns-collapse-id': notificationId } },
    });
    expect(receipt.providerMessageId).toBe(`projects/herald-test/messages/0:${fcm.requests.length}`);
  });

  test.each([
    ['UNREGISTERED', 404, 'NOT_FOUND', 'messaging/registration-token-not-registered', 'permanent', 'fcm_token_unregistered', true],
    ['INVALID_ARGUMENT', 400, 'INVALID_ARGUMENT', 'messaging/invalid-argument', 'permanent', 'fcm_invalid_argument', true],
    ['INTERNAL', 500, 'INTERNAL', 'messaging/internal-error', 'retryable', 'fcm_internal', undefined],
    ['SENDER_ID_MISMATCH', 403, 'PERMISSION_DENIED', 'messaging/mismatched-credential', 'configuration', 'fcm_mismatched_credential', undefined],
    ['THIRD_PARTY_AUTH_ERROR', 401, 'UNAUTHENTICATED', 'messaging/third-party-auth-error', 'configuration', 'fcm_third_party_auth', undefined],
    ['UNSPECIFIED_ERROR', 500, 'UNKNOWN', 'messaging/unknown-error', 'retryable', 'fcm_unknown', undefined],
  ])('FCM %s (HTTP %i, %s) becomes %s', async (errorCode, httpStatus, status, firebaseCode, kind, code, disableTarget) => {
    // FCM quotes the token in some messages; it must not reach logs or the attempts table.
    const err = await failure(fcmError(httpStatus, status, errorCode, `The registration token ${token} was refused`));
    expect((raw[0] as { code: string }).code).toBe(firebaseCode);
    expect({ kind: err.kind, code: err.code, disableTarget: err.extra.disableTarget }).toEqual({ kind, code, disableTarget });
    expect(err.extra.retryAfterMs).toBeUndefined();
  });

  test('QUOTA_EXCEEDED is retryable; firebase-admin drops the Retry-After header, so the retry policy sets the delay', async () => {
    const answer = fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded for sending messages');
    const err = await failure({ ...answer, headers: { 'retry-after': '30' } });
    expect((raw[0] as { code: string }).code).toBe('messaging/message-rate-exceeded');
    expect([err.kind, err.code, err.extra.disableTarget, err.extra.retryAfterMs]).toEqual(['retryable', 'fcm_rate_limited', undefined, undefined]);
  });

  test('with a configured rate-limit delay, QUOTA_EXCEEDED asks Temporal to wait exactly that long', async () => {
    const delayed = createFcmAdapter({ send: (m) => messaging.send(m) }, { rateLimitDelayMs: 60_000 });
    fcm.respondWith(fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded'));
    const err = await failureOf(delayed.send(request()));
    expect([err.code, err.extra.retryAfterMs]).toEqual(['fcm_rate_limited', 60_000]);
  });

  test('UNAVAILABLE is retryable, after firebase-admin has retried the 503 itself', async () => {
    const before = fcm.requests.length;
    const unavailable = fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE', 'The service is currently unavailable.');
    fcm.respondWith(unavailable, unavailable, unavailable, unavailable);
    const err = await failure(unavailable);
    expect(fcm.requests.length - before).toBe(5);
    expect((raw[0] as { code: string }).code).toBe('messaging/server-unavailable');
    expect([err.kind, err.code, err.extra.disableTarget, err.extra.retryAfterMs]).toEqual(['retryable', 'fcm_unavailable', undefined, undefined]);
  }, 30_000);

  test('a legacy InvalidRegistration answer disables the token', async () => {
    const err = await failure({ status: 400, json: { error: 'InvalidRegistration' } });
    expect((raw[0] as { code: string }).code).toBe('messaging/invalid-registration-token');
    expect([err.kind, err.code, err.extra.disableTarget]).toEqual(['permanent', 'fcm_invalid_token', true]);
  });

  test('a non-JSON 401 (our OAuth token refused) is a configuration error', async () => {
    const err = await failure({ status: 401, text: '<html>Unauthorized</html>' });
    expect((raw[0] as { code: string }).code).toBe('messaging/authentication-error');
    expect([err.kind, err.code, err.extra.disableTarget]).toEqual(['configuration', 'fcm_auth_failed', undefined]);
  });

  test('a payload firebase-admin refuses locally is permanent but keeps the token, and sends nothing', async () => {
    const before = fcm.requests.length;
    const bad = request({ message: { body: 'x', data: { count: 1 as unknown as string } } });
    const err = await failureOf(adapter.send(bad));
    expect([err.kind, err.code, err.extra.disableTarget]).toEqual(['permanent', 'fcm_invalid_message', undefined]);
    expect(fcm.requests.length).toBe(before);
  });

  test('cancellation stops the wait', async () => {
    const err = await failureOf(adapter.send(request({ signal: AbortSignal.abort() })));
    expect([err.kind, err.code]).toEqual(['retryable', 'fcm_cancelled']);
  });

  test('an unreachable FCM is retryable', async () => {
    const closed = await startFakeFcm();
    await closed.close();
    const unreachable = messagingVia(closed.port, `fcm-test-unreachable-${process.pid}`);
    try {
      const err = await failureOf(createFcmAdapter(unreachable.messaging).send(request()));
      expect([err.kind, err.code]).toEqual(['retryable', 'fcm_unreachable']);
    } finally {
      await deleteApp(unreachable.app);
    }
  });
  test('a payload FCM would refuse (too large, reserved data key) fails without disabling the token or calling FCM', async () => {
    const before = fcm.requests.length;
    const big = await failureOf(adapter.send(request({ message: { body: '가'.repeat(2000) } })));
    expect([big.kind, big.code, big.extra.disableTarget]).toEqual(['permanent', 'fcm_invalid_message', undefined]);
    const reserved = await failureOf(adapter.send(request({ message: { body: 'x', data: { 'google.c.a': '1' } } })));
    expect(reserved.message).toMatch(/reserved/);
    expect(fcm.requests.length).toBe(before);
  });
});

describe('fcmMessagingFromCredentials', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serviceAccountJson = JSON.stringify({
    type: 'service_account',
    project_id: 'herald-test',
    client_email: 'herald@herald-test.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  });

  test('is undefined without credentials, and one shared client with them', async () => {
    expect(fcmMessagingFromCredentials({})).toBeUndefined();
    const first = fcmMessagingFromCredentials({ serviceAccountJson })!;
    expect(first.app.name).toBe('herald-fcm');
    expect(fcmMessagingFromCredentials({ serviceAccountJson })!.app).toBe(first.app);
    await deleteApp(first.app);
  });

  test('does not quote a malformed service account, which holds a private key', () => {
    const broken = serviceAccountJson.slice(0, 200);
    expect(() => fcmMessagingFromCredentials({ serviceAccountJson: broken })).toThrow('the FCM service account is not valid JSON');
  });
});
