import { createSolapiAdapters } from '../../src/channels/solapi';
import { targetHint, type ChannelAdapter, type SendRequest } from '../../src/channels/types';
import { failureOf, sendRequest } from '../setup/channel-request';
import { startFakeSolapi, type FakeSolapi } from '../setup/fake-solapi';
import { webhookWorld } from '../setup/scenario';

/*
 * SMS and KakaoTalk Alimtalk end to end against a loopback SOLAPI that checks the request signature
 * and format as the provider documents them (test/setup/fake-solapi.ts).
 */
const account = { apiKey: 'NCSTESTKEY0001', apiSecret: 'test-secret-of-32-characters-xxxx', sender: '0212345678', pfId: 'KA01PF-herald', templates: { TPL_OTP: '인증번호 #{code}' } };
let solapi: FakeSolapi;
beforeAll(async () => {
  solapi = await startFakeSolapi(account);
});
afterAll(() => solapi?.close());

const pushed: SendRequest[] = [];
const recordingFcm: ChannelAdapter = { channel: 'fcm', send: async (request) => (pushed.push(request), { providerMessageId: `fcm-${pushed.length}` }) };

const w = webhookWorld('phone', () => ({
  adapters: { fcm: recordingFcm },
  env: {
    SOLAPI_API_KEY: account.apiKey,
    SOLAPI_API_SECRET: account.apiSecret,
    SOLAPI_BASE_URL: solapi.url,
    SMS_SENDER: '02-1234-5678',
    KAKAO_PF_ID: account.pfId,
    THROTTLE_BURST: '0',
  },
}));

let users = 0;
/** A recipient with a national number on the given channels; answers the number as SOLAPI sees it (digits, with the 0). */
async function recipient(channels: Array<'sms' | 'kakao'>) {
  const userId = `phone-${++users}`;
  const national = `010-5555-${String(1000 + users)}`;
  for (const channel of channels) {
    const registered = await w.api.post(`/v1/users/${userId}/${channel}-numbers`, { number: national });
    expect(registered.status).toBe(201);
    expect(registered.body.target).toMatch(/^\+82105/);
  }
  return { userId, to: national.replace(/-/g, '') };
}
const callsTo = (to: string) => solapi.calls.filter((c) => c.body?.message?.to === to);

beforeAll(async () => {
  await w.api.put('/v1/templates/otp/ko/kakao', { body: '인증번호 {{code}}', providerTemplateId: 'TPL_OTP' });
  await w.api.put('/v1/templates/otp/ko/sms', { body: '[Herald] 인증번호 {{code}}' });
  await w.api.put('/v1/templates/otp/ko/fcm', { title: '인증', body: '인증번호 {{code}}' });
  await w.api.put('/v1/templates/plain/ko/default', { body: '안내 {{code}}' });
});

test('a short SMS goes out as SMS, signed, from the registered sender, to the national number', async () => {
  const { userId, to } = await recipient(['sms']);
  const created = await w.api.create({ userId, channels: ['sms'], content: { body: 'Your code is 123456' } });
  const done = await w.api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
  expect(done.attempts).toEqual([expect.objectContaining({ channel: 'sms', outcome: 'delivered', providerMessageId: expect.stringMatching(/^M4V/) })]);
  const [call] = callsTo(to);
  expect(call.verdict).toBe('2000');
  expect(call.body.message).toEqual({ to, country: '82', from: '0212345678', type: 'SMS', text: 'Your code is 123456' });
});

test('over 90 EUC-KR bytes it goes as LMS with the title as subject; over 2,000 bytes the create is refused', async () => {
  const { userId, to } = await recipient(['sms']);
  // 46 Hangul syllables are 92 bytes in EUC-KR: one SMS cannot carry them.
  const text = '가'.repeat(46);
  const created = await w.api.create({ userId, channels: ['sms'], content: { title: '공지', body: text } });
  await w.api.waitFor(created.body.id, 'DELIVERED');
  expect(callsTo(to).at(-1)!.body.message).toMatchObject({ type: 'LMS', subject: '공지', text });
  const refused = await w.api.create({ userId, channels: ['sms'], content: { body: '가'.repeat(1001) } });
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({ code: 'message_too_large', details: { channel: 'sms', size: 2002, limit: 2000, unit: 'bytes' } });
  const emoji = await w.api.create({ userId, channels: ['sms'], content: { body: 'see you 🙂' } });
  expect([emoji.status, emoji.body.error.code]).toEqual([422, 'sms_unsupported_characters']);
});

test('Alimtalk sends the approved template by its id, with the Kakao profile, and without the provider\'s own SMS substitute', async () => {
  const { userId, to } = await recipient(['kakao']);
  await w.api.put(`/v1/users/${userId}/preferences`, { locale: 'ko' });
  const created = await w.api.create({ userId, channels: ['kakao'], template: { key: 'otp', data: { code: '482913' } } });
  expect(created.status).toBe(202);
  await w.api.waitFor(created.body.id, 'DELIVERED');
  expect(callsTo(to).at(-1)!.body.message).toMatchObject({
    type: 'ATA',
    text: '인증번호 482913',
    kakaoOptions: { pfId: account.pfId, templateId: 'TPL_OTP', disableSms: true },
  });
});

test('an Alimtalk without a template id is refused at create: inline content, or a template that has none', async () => {
  const { userId } = await recipient(['kakao']);
  for (const body of [
    { userId, channels: ['kakao'], content: { body: 'free text' } },
    { userId, channels: ['kakao'], template: { key: 'plain', locale: 'ko', data: { code: '1' } } },
  ]) {
    const refused = await w.api.create(body);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('kakao_template_required');
  }
  expect((await w.api.list(`userId=${userId}`)).body.items).toEqual([]);
});

test('Kakao → SMS fallback: a recipient who is not a KakaoTalk user gets the SMS, and the attempt log shows both', async () => {
  const { userId, to } = await recipient(['kakao', 'sms']);
  await w.api.put(`/v1/users/${userId}/preferences`, { locale: 'ko' });
  solapi.answerFor(to, '3104', 'ATA');
  const created = await w.api.create({ userId, channels: ['kakao', 'sms'], routing: 'fallback', template: { key: 'otp', data: { code: '771020' } } });
  const done = await w.api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
  expect(done.attempts.map((a: { channel: string; outcome: string; errorCode: string | null }) => `${a.channel}:${a.outcome}:${a.errorCode ?? ''}`)).toEqual([
    'kakao:permanent_error:kakao_status_3104',
    'sms:delivered:',
  ]);
  expect(callsTo(to).map((c) => c.body.message.type)).toEqual(['ATA', 'SMS']);
  expect((await w.api.targets(userId)).body.items.find((t: { channel: string }) => t.channel === 'kakao')).toMatchObject({ disabledReason: 'kakao_status_3104' });
});

test('preferred channels [kakao, fcm] without a KakaoTalk number: the push goes out on FCM, no Kakao request is made, and the log shows both', async () => {
  const userId = `phone-${++users}`;
  await w.api.put(`/v1/users/${userId}/preferences`, { locale: 'ko', preferredChannels: ['kakao', 'fcm'] });
  expect((await w.api.post(`/v1/users/${userId}/devices`, { token: `fcm-token-${'x'.repeat(30)}` })).status).toBe(201);
  const before = solapi.calls.length;
  const created = await w.api.create({ userId, template: { key: 'otp', data: { code: '990011' } } });
  expect(created.body).toMatchObject({ channels: ['kakao', 'fcm'], routing: 'fallback' });
  const done = await w.api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
  // Kakao's line says why it stayed silent; no attempt was made on it.
  expect(done.attempts.map((a: { channel: string; outcome: string; errorCode: string | null; attempt: number }) => `${a.channel}:${a.outcome}:${a.errorCode}:${a.attempt}`)).toEqual([
    'kakao:skipped:no_active_target:0',
    'fcm:delivered:null:1',
  ]);
  expect(pushed.filter((p) => p.notificationId === created.body.id).map((p) => p.message.body)).toEqual(['인증번호 990011']);
  expect(solapi.calls.length).toBe(before);
});

test('phone numbers are validated and stored as E.164', async () => {
  const userId = `phone-${++users}`;
  expect((await w.api.post(`/v1/users/${userId}/sms-numbers`, { number: '12345' })).status).toBe(400);
  const international = await w.api.post(`/v1/users/${userId}/sms-numbers`, { number: '+81 90-1234-5678' });
  expect(international.status).toBe(201);
  expect(international.body.target).toBe(targetHint('+819012345678'));
});

describe('the SOLAPI adapter against the fake, directly', () => {
  const options = { apiKey: account.apiKey, apiSecret: account.apiSecret, baseUrl: '', timeoutMs: 5000, sender: account.sender, longMessages: 'refuse' as const, kakaoPfId: account.pfId };
  const sms = (overrides: Partial<typeof options> = {}) => createSolapiAdapters({ ...options, baseUrl: solapi.url, ...overrides }).sms!;
  const request = (body: string) => sendRequest({ channel: 'sms', address: '+821055559999', secrets: null }, { message: { body } });

  test('a wrong API secret is refused by the provider: a configuration error, the number kept', async () => {
    const failure = await failureOf(sms({ apiSecret: 'not-the-secret-of-this-account-xx' }).send(request('hi')), 'not-the-secret-of-this-account-xx');
    expect(failure).toMatchObject({ kind: 'configuration', code: 'sms_provider_account' });
    expect(failure.extra.disableTarget).toBeUndefined();
    expect(solapi.calls.at(-1)!.verdict).toBe('SignatureDoesNotMatch');
  });

  test('an unregistered sender is our configuration; a text SMS cannot carry, or too long when long messages are refused, fails before any request', async () => {
    expect(await failureOf(sms({ sender: '0299999999' }).send(request('hi')))).toMatchObject({ kind: 'configuration', code: 'sms_status_1062' });
    const before = solapi.calls.length;
    expect(await failureOf(sms().send(request('가'.repeat(46))))).toMatchObject({ kind: 'permanent', code: 'sms_too_long' });
    expect(await failureOf(sms().send(request('🙂')))).toMatchObject({ kind: 'permanent', code: 'sms_unsupported_characters' });
    expect(solapi.calls.length).toBe(before);
  });
});
