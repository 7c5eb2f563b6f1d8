import net from 'node:net';
import type { Resolve } from '../../src/net/outbound';
import { upsertTarget } from '../../src/db/targets';
import { LOOPBACK_DNS } from '../setup/net';
import { inSeconds, webhookWorld } from '../setup/scenario';

/*
 * Webhook URLs cannot reach what Herald may not: refused at registration, and again at send time on
 * the address actually connected to. The forbidden place is a canary listener on 127.0.0.2, which
 * the tests' outbound policy refuses (only 127.0.0.1 is allowed): if any guard failed, the canary
 * would count a connection. Nothing here leaves 127.0.0.0/8.
 */
let canary: net.Server;
let canaryPort = 0;
let canaryConnections = 0;

/** `rebind.test` answers 127.0.0.1 to its first lookup and the canary's address to every later one. */
let rebindLookups = 0;
const resolve: Resolve = async (hostname) => {
  if (hostname === 'rebind.test') return rebindLookups++ === 0 ? ['127.0.0.1'] : ['127.0.0.2'];
  if (hostname === 'canary.test') return ['127.0.0.2'];
  return LOOPBACK_DNS(hostname);
};

beforeAll(async () => {
  canary = net.createServer((socket) => {
    canaryConnections++;
    socket.destroy();
  });
  await new Promise<void>((ready) => canary.listen(0, '127.0.0.2', ready));
  canaryPort = (canary.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((closed) => canary.close(() => closed())));

const w = webhookWorld('ssrf', () => ({ resolve, env: { RETRY_WEBHOOK_MAX_ATTEMPTS: '2', RETRY_WEBHOOK_INITIAL_INTERVAL: '100ms' } }));

describe('registration', () => {
  test.each([
    ['the canary (loopback outside the allow-list)', () => `http://127.0.0.2:${canaryPort}/hook`, /127\.0\.0\.2 is a loopback address/],
    ['the canary in hex', () => `http://0x7f000002:${canaryPort}/hook`, /127\.0\.0\.2 is a loopback address/],
    ['a name resolving to the canary', () => `http://canary.test:${canaryPort}/hook`, /canary\.test resolves to a refused address/],
    ['the cloud metadata service', () => 'http://169.254.169.254/latest/meta-data/', /linkLocal/],
    ['a private address', () => 'http://10.0.0.5/hook', /private/],
    ['CGNAT', () => 'http://100.64.0.1/hook', /carrierGradeNat/],
    ['multicast', () => 'http://224.0.0.1/hook', /multicast/],
    ['IPv6 link-local', () => 'http://[fe80::1]/hook', /linkLocal/],
    ['the canary as IPv4-mapped IPv6', () => `http://[::ffff:127.0.0.2]:${canaryPort}/hook`, /loopback/],
    ['IPv4-mapped IPv6', () => 'http://[::ffff:10.0.0.5]/hook', /private/],
    ['IPv6 unique local', () => 'http://[fd00::1]/hook', /uniqueLocal/],
  ])('%s is refused with 422, and nothing is stored', async (_what, url, reason) => {
    const res = await w.api.registerWebhook('ssrf-registration', url());
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('url_not_allowed');
    expect(res.body.error.message).toMatch(reason);
    expect((await w.api.targets('ssrf-registration')).body.items).toEqual([]);
  });
});

describe('send time', () => {
  /** A target as if stored before the guard existed (or by a path that skipped it): the send must still refuse it. */
  async function storedTarget(userId: string, url: string) {
    await upsertTarget(w.stack.database.db, { userId, channel: 'webhook', address: url, secrets: { signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } });
  }

  async function sendTo(userId: string) {
    const created = await w.api.create({ userId, channels: ['webhook'], content: { body: 'ssrf probe' }, scheduledAt: inSeconds(0) });
    expect(created.status).toBe(202);
    return w.api.waitFor(created.body.id, 'FAILED', 'DELIVERED');
  }

  test('DNS rebinding: a name that passed at registration and now resolves to the canary is refused, on the address it resolved to', async () => {
    const registered = await w.api.registerWebhook('ssrf-rebind', `http://rebind.test:${canaryPort}/hook`);
    expect(registered.status).toBe(201);
    const detail = await sendTo('ssrf-rebind');
    expect(detail.status).toBe('FAILED');
    expect(detail.attempts.map((a: { errorCode: string }) => a.errorCode)).toEqual(['webhook_address_refused']);
    expect(detail.attempts[0].errorMessage).toMatch(/rebind\.test resolves to a refused address: 127\.0\.0\.2 is a loopback address/);
    const [target] = (await w.api.targets('ssrf-rebind')).body.items;
    expect(target.disabledReason).toMatch(/webhook_address_refused/);
    expect(canaryConnections).toBe(0);
  });

  test('a stored URL on a refused address is refused before connecting, and its target disabled', async () => {
    await storedTarget('ssrf-stored', `http://127.0.0.2:${canaryPort}/hook`);
    const detail = await sendTo('ssrf-stored');
    expect(detail.status).toBe('FAILED');
    expect(detail.attempts[0].errorCode).toBe('webhook_address_refused');
    expect(canaryConnections).toBe(0);
  });

  test('a redirect is not followed', async () => {
    const userId = await w.recipient();
    w.receiver.respondWith({ status: 307, headers: { location: `http://127.0.0.2:${canaryPort}/hook` } });
    const detail = await sendTo(userId);
    expect(detail.status).toBe('FAILED');
    expect(detail.attempts.map((a: { httpStatus: number }) => a.httpStatus)).toEqual([307]);
    expect(w.receiver.received).toHaveLength(1);
    expect(canaryConnections).toBe(0);
  });

  test('an allowed receiver still gets its webhook', async () => {
    const userId = await w.recipient();
    const detail = await sendTo(userId);
    expect(detail.status).toBe('DELIVERED');
  });
});
