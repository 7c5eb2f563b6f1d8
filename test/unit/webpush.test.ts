import net from 'node:net';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateVAPIDKeys } from 'web-push';
import { createWebPushAdapter, isAllowedPushEndpoint, WEB_PUSH_PAYLOAD_LIMIT, webPushPayload, type WebPushOptions } from '../../src/channels/webpush';
import { loadOrCreateVapidKeys } from '../../src/channels/vapid';
import type { RenderedMessage, SendRequest } from '../../src/channels/types';
import { failureOf, NOTIFICATION_ID, sendRequest } from '../setup/channel-request';
import { TEST_OUTBOUND } from '../setup/net';
import { startPushService, type PushService, type TestSubscription } from '../setup/push-service';

const notificationId = NOTIFICATION_ID;
const vapidKeys = generateVAPIDKeys();
const vapid = { subject: 'mailto:ops@herald.test', ...vapidKeys };

const request = (subscription: Pick<TestSubscription, 'endpoint' | 'keys'>, overrides: Partial<SendRequest> = {}) =>
  sendRequest({ channel: 'webpush', address: subscription.endpoint, secrets: subscription.keys }, overrides);

describe('Web Push adapter against a loopback push service', () => {
  let service: PushService;
  let options: WebPushOptions;

  beforeAll(async () => {
    service = await startPushService();
    options = { vapid, allowedHosts: [new URL(service.url).host], ttlSeconds: 3600, timeoutMs: 5000, outbound: TEST_OUTBOUND };
  });
  afterAll(() => service.close());

  test('delivers an encrypted payload with VAPID, TTL, Urgency and Topic', async () => {
    const subscription = service.subscribe();
    const receipt = await createWebPushAdapter(options).send(request(subscription));

    const push = service.received.at(-1)!;
    expect(push.endpointPath).toBe(new URL(subscription.endpoint).pathname);
    expect(push.headers['content-encoding']).toBe('aes128gcm');
    const message: RenderedMessage = request(subscription).message;
    expect(push.plaintext).toBe(JSON.stringify({ notificationId, title: message.title, body: message.body, data: message.data, url: message.url }));
    expect(push.vapidValid).toBe(true);
    expect(push.vapidPublicKey).toBe(vapid.publicKey);
    expect(push.vapidClaims).toMatchObject({ aud: service.url, sub: vapid.subject });
    expect([push.ttl, push.urgency, push.topic]).toEqual(['3600', 'high', notificationId]);
    expect(receipt).toEqual({ httpStatus: 201, providerMessageId: expect.stringMatching(`^${service.url}/messages/`) });
  });

  test('a payload at the limit fills one 4,096-byte record; one byte more is refused before any request', async () => {
    const subscription = service.subscribe();
    const adapter = createWebPushAdapter(options);
    const overhead = Buffer.byteLength(webPushPayload(notificationId, { body: '' }));
    const atLimit = { body: 'x'.repeat(WEB_PUSH_PAYLOAD_LIMIT - overhead) };
    await adapter.send(request(subscription, { message: atLimit }));
    const push = service.received.at(-1)!;
    expect(push.bodyBytes).toBe(4096);
    expect(push.plaintext).toBe(webPushPayload(notificationId, atLimit));

    const before = service.received.length;
    const failure = await failureOf(adapter.send(request(subscription, { message: { body: `${atLimit.body}x` } })));
    expect(failure).toMatchObject({ kind: 'permanent', code: 'webpush_message_too_large' });
    expect(failure.extra.disableTarget).toBeUndefined();
    expect(service.received.length).toBe(before);
  });

  test('takes the urgency from the message data when it is a valid one', async () => {
    const subscription = service.subscribe();
    const adapter = createWebPushAdapter(options);
    await adapter.send(request(subscription, { message: { body: 'b', data: { urgency: 'low' } } }));
    await adapter.send(request(subscription, { message: { body: 'b', data: { urgency: 'urgent!' } } }));
    expect(service.received.slice(-2).map((p) => p.urgency)).toEqual(['low', 'high']);
  });

  test.each([
    [404, {}, 'permanent', 'webpush_subscription_gone', true, undefined],
    [410, {}, 'permanent', 'webpush_subscription_gone', true, undefined],
    [429, { 'retry-after': '7' }, 'retryable', 'webpush_rate_limited', undefined, 7000],
    [500, {}, 'retryable', 'webpush_unavailable', undefined, undefined],
    [503, { 'retry-after': '2' }, 'retryable', 'webpush_unavailable', undefined, 2000],
    [401, {}, 'configuration', 'webpush_vapid_rejected', undefined, undefined],
    [403, {}, 'configuration', 'webpush_vapid_rejected', undefined, undefined],
    [400, {}, 'permanent', 'webpush_rejected', undefined, undefined],
    [413, {}, 'permanent', 'webpush_rejected', undefined, undefined],
  ])('HTTP %i %j → %s %s', async (status, headers, kind, code, disableTarget, retryAfterMs) => {
    const subscription = service.subscribe();
    service.respondWith({ status, headers, body: `no thanks, ${subscription.endpoint}` });
    const err = await failureOf(createWebPushAdapter(options).send(request(subscription)));
    expect({ kind: err.kind, code: err.code, ...err.extra }).toEqual({ kind, code, httpStatus: status, disableTarget, retryAfterMs });
    // The endpoint URL is a bearer capability: never in logs or the attempts table.
    expect(err.message).not.toContain(new URL(subscription.endpoint).pathname);
  });

  test('a mismatched VAPID key pair is refused by the push service: a configuration error', async () => {
    const subscription = service.subscribe();
    const wrongPrivateKey = { ...vapid, privateKey: generateVAPIDKeys().privateKey };
    const err = await failureOf(createWebPushAdapter({ ...options, vapid: wrongPrivateKey }).send(request(subscription)));
    expect(service.received.at(-1)!.vapidValid).toBe(false);
    expect([err.kind, err.code]).toEqual(['configuration', 'webpush_vapid_rejected']);
  });

  test('refuses, and disables, endpoints outside the push services and subscriptions without usable keys', async () => {
    const before = service.received.length;
    const adapter = createWebPushAdapter(options);
    const keys = service.subscribe().keys;
    const foreign = await failureOf(adapter.send(request({ endpoint: 'https://169.254.169.254/latest/meta-data', keys })));
    expect([foreign.kind, foreign.code, foreign.extra.disableTarget]).toEqual(['permanent', 'webpush_endpoint_not_allowed', true]);
    const { endpoint } = service.subscribe();
    const broken = await failureOf(adapter.send(request({ endpoint, keys: { p256dh: 'AAAA', auth: keys.auth } })));
    expect([broken.kind, broken.code, broken.extra.disableTarget]).toEqual(['permanent', 'webpush_invalid_subscription', true]);
    expect(service.received.length).toBe(before);
  });

  describe('when the push service does not answer', () => {
    let silent: net.Server;
    let endpoint: string;
    const sockets: net.Socket[] = [];

    beforeAll(async () => {
      silent = net.createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/push/silent`;
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    });

    const silentOptions = () => ({ ...options, allowedHosts: [new URL(endpoint).host], timeoutMs: 300 });

    test('times out as retryable', async () => {
      const err = await failureOf(createWebPushAdapter(silentOptions()).send(request({ endpoint, keys: service.subscribe().keys })));
      expect([err.kind, err.code]).toEqual(['retryable', 'webpush_timeout']);
    });

    test('stops when the activity is cancelled', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const adapter = createWebPushAdapter({ ...silentOptions(), timeoutMs: 60_000 });
      const err = await failureOf(adapter.send(request({ endpoint, keys: service.subscribe().keys }, { signal: controller.signal })));
      expect([err.kind, err.code]).toEqual(['retryable', 'webpush_cancelled']);
    });
  });

  test('an unreachable push service is retryable', async () => {
    const gone = await startPushService();
    const subscription = gone.subscribe();
    await gone.close();
    const adapter = createWebPushAdapter({ ...options, allowedHosts: [new URL(gone.url).host] });
    const err = await failureOf(adapter.send(request(subscription)));
    expect([err.kind, err.code, err.message]).toEqual(['retryable', 'webpush_unreachable', 'push service unreachable: ECONNREFUSED']);
  });

  test('rejects unusable VAPID settings at start-up', () => {
    expect(() => createWebPushAdapter({ ...options, vapid: { ...vapid, subject: 'ops@herald.test' } })).toThrow(/invalid VAPID configuration/);
    expect(() => createWebPushAdapter({ ...options, vapid: { ...vapid, privateKey: 'short' } })).toThrow(/invalid VAPID configuration/);
  });
});

describe('isAllowedPushEndpoint', () => {
  test.each([
    'https://fcm.googleapis.com/fcm/send/abc',
    'https://updates.push.services.mozilla.com/wpush/v2/abc',
    'https://web.push.apple.com/QGz',
    'https://api.push.apple.com/3/device/abc',
    'https://wns2-by3p.notify.windows.com/w/?token=abc',
    'https://push.example.net/sub/1',
    'https://push.example.net:443/sub/1',
    'https://relay.example.org:8443/sub/1',
    'http://127.0.0.1:8080/push/1',
    'http://localhost:9000/push/1',
  ])('allows %s', (endpoint) => {
    expect(isAllowedPushEndpoint(endpoint, ['push.example.net', 'relay.example.org:8443', '127.0.0.1:8080', 'localhost:9000'])).toBe(true);
  });

  test.each([
    ['plain http to a known service', 'http://fcm.googleapis.com/fcm/send/abc', []],
    ['a known service on another port', 'https://fcm.googleapis.com:8443/fcm/send/abc', []],
    ['a look-alike host', 'https://fcm.googleapis.com.evil.example/x', []],
    ['a suffix without the dot', 'https://evilnotify.windows.com/x', []],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data', ['169.254.169.254']],
    ['plain http to a non-loopback allowed host', 'http://push.example.net/sub', ['push.example.net']],
    ['loopback not named in the allow-list', 'http://127.0.0.1:8080/push/1', []],
    ['loopback on another port', 'http://127.0.0.1:8081/push/1', ['127.0.0.1:8080']],
    ['an allowed host on a port it was not listed with', 'https://push.example.net:8443/sub', ['push.example.net']],
    ['credentials in the URL', 'https://user:pass@fcm.googleapis.com/fcm/send/abc', []],
    ['another scheme', 'ftp://fcm.googleapis.com/x', []],
    ['not a URL', 'fcm.googleapis.com/fcm/send/abc', []],
  ])('refuses %s', (_why, endpoint, allowedHosts) => {
    expect(isAllowedPushEndpoint(endpoint, allowedHosts)).toBe(false);
  });
});

describe('loadOrCreateVapidKeys', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'herald-vapid-')), 'data');
  });
  afterEach(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

  test('generates the pair once, private to this user, and reuses it', () => {
    const first = loadOrCreateVapidKeys(dataDir);
    expect(first.created).toBe(true);
    expect(Buffer.from(first.publicKey, 'base64url')).toHaveLength(65);
    expect(statSync(join(dataDir, 'vapid.json')).mode & 0o777).toBe(0o600);
    const second = loadOrCreateVapidKeys(dataDir);
    expect(second).toEqual({ publicKey: first.publicKey, privateKey: first.privateKey, created: false });
  });

  test('refuses to overwrite a file that holds no key pair', () => {
    loadOrCreateVapidKeys(dataDir);
    writeFileSync(join(dataDir, 'vapid.json'), '{"publicKey": 1}');
    expect(() => loadOrCreateVapidKeys(dataDir)).toThrow(/does not hold a VAPID key pair/);
  });
});
