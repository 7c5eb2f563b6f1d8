import { freePort } from '../setup/net';
import { startMailpit, type Mailpit } from '../setup/mailpit';
import { statusesOf, webhookWorld } from '../setup/scenario';
import { call } from '../setup/http';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';

/*
 * Email end to end through a real SMTP server (mailpit on loopback): what arrives, the one-click
 * unsubscribe link working through Herald's own API, and a 550 disabling the address. mailpit takes
 * mail for @herald.test only and answers 550 at RCPT TO for anything else.
 */
const SMTP_PASSWORD = 'smtp-password-never-logged';
/** Everything the stack logs, at debug level: the SMTP password must never be in it. */
const logged: string[] = [];
const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logged.push(chunk.toString('utf8')), done()) });
let mailpit: Mailpit;
let apiPort: number;
beforeAll(async () => {
  mailpit = await startMailpit({ allowedRecipients: '@herald\\.test$', chaos: true });
  apiPort = await freePort();
});
afterAll(() => mailpit?.close());

const w = webhookWorld('mail', () => ({
  log: createLogger('debug', 'test', 'json', sink),
  env: {
    SMTP_URL: mailpit.smtpUrl.replace('//', `//herald:${SMTP_PASSWORD}@`),
    EMAIL_FROM: 'Herald <no-reply@herald.test>',
    PORT: String(apiPort),
    PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    THROTTLE_BURST: '0',
    RETRY_EMAIL_INITIAL_INTERVAL: '1s',
    RETRY_EMAIL_CONFIGURATION_DELAY: '3s',
  },
}));

let users = 0;
async function recipient(address?: string) {
  const userId = `mail-${++users}`;
  const mailbox = address ?? `${userId}@herald.test`;
  const registered = await w.api.post(`/v1/users/${userId}/email-addresses`, { address: mailbox });
  expect(registered.status).toBe(201);
  return { userId, mailbox, registered: registered.body };
}

const unsubscribeLinkOf = (headers: Record<string, string[]>) => headers['List-Unsubscribe']?.[0]?.replace(/^<|>$/g, '');

beforeAll(async () => {
  await w.api.put('/v1/templates/welcome/ko/email', { title: '{{name}}님, 환영합니다', body: '안녕하세요 {{name}}님', html: '<p>안녕하세요 <b>{{name}}</b>님</p>' });
  await w.api.put('/v1/templates/welcome/en/email', { title: 'Welcome, {{name}}', body: 'Hello {{name}}', html: '<p>Hello <b>{{name}}</b></p>' });
});

// First: the mail transport pools its connections, and AUTH happens once per connection.
test('refused SMTP credentials are a configuration error: the address stays enabled and the send goes out once they work', async () => {
  const { userId, mailbox } = await recipient();
  await mailpit.failEvery('Authentication', 535);
  try {
    const created = await w.api.create({ userId, channels: ['email'], category: 'news', content: { title: 'Creds', body: 'fixed soon' } });
    const first = await w.api.waitUntil(created.body.id, (d) => d.attempts.length >= 1, 'a first attempt');
    expect(first.attempts[0]).toMatchObject({ outcome: 'configuration_error', errorCode: 'email_auth_failed' });
    expect(JSON.stringify(first)).not.toContain(SMTP_PASSWORD);
    // The configuration error was logged, and without the password of the SMTP_URL it came from.
    expect(logged.join('')).toContain('email_auth_failed');
    expect(logged.join('')).not.toContain(SMTP_PASSWORD);
    expect((await w.api.targets(userId)).body.items[0].disabledReason).toBeNull();
    await mailpit.failEvery('Authentication', null);
    await w.api.waitFor(created.body.id, 'DELIVERED');
    expect(await mailpit.messagesTo(mailbox)).toHaveLength(1);
  } finally {
    await mailpit.failEvery('Authentication', null);
  }
});

test('the message arrives in the recipient\'s locale, with subject, text and HTML parts, its id and a one-click unsubscribe', async () => {
  const { userId, mailbox, registered } = await recipient();
  expect(registered).toMatchObject({ channel: 'email', verified: false, disabledReason: null });
  await w.api.put(`/v1/users/${userId}/preferences`, { locale: 'ko-KR' });
  const created = await w.api.create({ userId, channels: ['email'], category: 'news', template: { key: 'welcome', data: { name: '<Tom & Jerry>' } } });
  expect(created.status).toBe(202);
  const done = await w.api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
  expect(statusesOf(done)).toEqual(['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);

  const [mail] = await mailpit.messagesTo(mailbox);
  expect(mail.Subject).toBe('<Tom & Jerry>님, 환영합니다');
  expect(mail.Text.trim()).toBe('안녕하세요 <Tom & Jerry>님');
  // Values are HTML-escaped in the HTML part only.
  expect(mail.HTML).toContain('<p>안녕하세요 <b>&lt;Tom &amp; Jerry&gt;</b>님</p>');
  expect(mail.MessageID).toBe(`${created.body.id}@herald.test`);
  const headers = await mailpit.headersOf(mail.ID);
  expect(headers['X-Herald-Notification-Id']).toEqual([created.body.id]);
  expect(headers['List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
  expect(unsubscribeLinkOf(headers)).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${apiPort}/unsubscribe\\?token=`));
  expect(done.attempts).toEqual([expect.objectContaining({ channel: 'email', outcome: 'delivered', providerMessageId: `<${created.body.id}@herald.test>` })]);
});

test('the unsubscribe link: a GET only asks, the one-click POST opts out, and the next one in that category ends CANCELLED(opted_out)', async () => {
  const { userId, mailbox } = await recipient();
  const first = await w.api.create({ userId, channels: ['email'], category: 'digest', content: { title: 'Digest', body: 'three new posts' } });
  await w.api.waitFor(first.body.id, 'DELIVERED');
  const [mail] = await mailpit.messagesTo(mailbox);
  const link = unsubscribeLinkOf(await mailpit.headersOf(mail.ID))!;

  // Link scanners follow GETs: the page asks, and nothing changes.
  const page = await fetch(link);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<form method="post">');
  expect((await w.api.read(`/v1/users/${userId}/preferences`)).body.optedOutCategories).toEqual([]);

  // A forged or altered token changes nothing either.
  const forged = await fetch(link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), { method: 'POST' });
  expect(forged.status).toBe(404);
  expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unsubscribe_link_invalid');

  // What a mail client sends for RFC 8058 one-click.
  const oneClick = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  expect(oneClick.status).toBe(200);
  expect(await oneClick.json()).toEqual({ userId, category: 'digest', optedOut: true });
  expect((await w.api.read(`/v1/users/${userId}/preferences`)).body.optedOutCategories).toEqual(['digest']);

  const next = await w.api.create({ userId, channels: ['email'], category: 'digest', content: { title: 'Digest', body: 'two more' } });
  const cancelled = await w.api.waitFor(next.body.id, 'CANCELLED', 'DELIVERED');
  expect(`${cancelled.status}(${cancelled.statusReason})`).toBe('CANCELLED(opted_out)');
  const other = await w.api.create({ userId, channels: ['email'], category: 'account', content: { title: 'Receipt', body: 'paid' } });
  await w.api.waitFor(other.body.id, 'DELIVERED');
  expect((await mailpit.messagesTo(mailbox)).map((m) => m.Subject)).toEqual(['Digest', 'Receipt']);
});

test('a mandatory category\'s email carries no unsubscribe link', async () => {
  const { userId, mailbox } = await recipient();
  expect((await w.api.put('/v1/categories/security', { quietHours: 'bypass', mandatory: true })).status).toBeLessThan(300);
  const created = await w.api.create({ userId, channels: ['email'], category: 'security', content: { title: 'New sign-in', body: 'from a new device' } });
  await w.api.waitFor(created.body.id, 'DELIVERED');
  const [mail] = await mailpit.messagesTo(mailbox);
  const headers = await mailpit.headersOf(mail.ID);
  expect(headers['List-Unsubscribe']).toBeUndefined();
  expect(headers['X-Herald-Notification-Id']).toEqual([created.body.id]);
});

test('a 550 from the mail server fails the send at once and disables the address; the next email skips it', async () => {
  const { userId, mailbox } = await recipient('nobody@elsewhere.test');
  const created = await w.api.create({ userId, channels: ['email'], category: 'news', content: { title: 'Hi', body: 'anyone there?' } });
  const failed = await w.api.waitFor(created.body.id, 'FAILED', 'DELIVERED');
  expect(failed.attempts).toEqual([expect.objectContaining({ outcome: 'permanent_error', errorCode: 'email_address_rejected' })]);
  expect(failed.attempts[0].errorMessage).toContain('550');
  expect((await w.api.targets(userId)).body.items[0]).toMatchObject({ channel: 'email', disabledReason: 'email_address_rejected' });
  const next = await w.api.create({ userId, channels: ['email'], category: 'news', content: { title: 'Hi', body: 'again' } });
  expect((await w.api.waitFor(next.body.id, 'FAILED', 'DELIVERED')).statusReason).toBe('no_deliverable_target');
  expect(await mailpit.messagesTo(mailbox)).toEqual([]);
});

test('a 451 at RCPT TO (greylisting) is retried, and the message goes out once the server takes it', async () => {
  const { userId, mailbox } = await recipient();
  await mailpit.failEvery('Recipient', 451);
  try {
    const created = await w.api.create({ userId, channels: ['email'], category: 'news', content: { title: 'Later', body: 'try again' } });
    await w.api.waitUntil(created.body.id, (d) => d.attempts.length >= 1, 'a first attempt');
    await mailpit.failEvery('Recipient', null);
    const done = await w.api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
    const outcomes = done.attempts.map((a: { outcome: string; errorCode: string | null }) => `${a.outcome}:${a.errorCode ?? ''}`);
    expect(outcomes.at(-1)).toBe('delivered:');
    expect(new Set(outcomes.slice(0, -1))).toEqual(new Set(['retryable_error:email_deferred']));
    expect(await mailpit.messagesTo(mailbox)).toHaveLength(1);
  } finally {
    await mailpit.failEvery('Recipient', null);
  }
});

test('addresses are validated, their domain lower-cased, and the verified flag is the client\'s to set', async () => {
  const userId = `mail-${++users}`;
  for (const address of ['not-an-address', `${'a'.repeat(65)}@herald.test`]) {
    expect((await w.api.post(`/v1/users/${userId}/email-addresses`, { address })).status).toBe(400);
  }
  const registered = await w.api.post(`/v1/users/${userId}/email-addresses`, { address: 'Ana@Herald.TEST', verified: true });
  expect(registered.body).toMatchObject({ verified: true, target: expect.stringContaining('Ana@') });
  const again = await w.api.post(`/v1/users/${userId}/email-addresses`, { address: 'Ana@herald.test' });
  expect(again.status).toBe(200);
  expect(again.body.verified).toBe(true);
});

test('the unsubscribe routes answer a missing token with 400 and one Herald did not sign with 404', async () => {
  const base = `http://127.0.0.1:${apiPort}`;
  for (const method of ['GET', 'POST']) {
    for (const [path, status] of [['/unsubscribe', 400], ['/unsubscribe?token=abc', 404], ['/unsubscribe?token=a.b.c', 404]] as const) {
      const answer = await call(base, method, path);
      expect([method, path, answer.status]).toEqual([method, path, status]);
    }
  }
});
