import { createHash } from 'node:crypto';
import { client } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';

/*
 * Operator settings can be read back, and changing one field of a type's settings leaves the others
 * as they were (PATCH); PUT replaces the whole document, as its name says.
 */
describe('type and category settings: read-back and one-field changes', () => {
  let stack: TestStack;
  let api: ReturnType<typeof client>;
  const API_KEY = 'settings-test-key-0123456789';
  beforeAll(async () => {
    stack = await startTestStack({ database: 'pglite', env: { API_KEYS: API_KEY } });
    api = client(stack, { apiKey: API_KEY });
  });
  afterAll(() => stack?.stop());

  test('a type nobody configured reads as the defaults that apply to it', async () => {
    const read = await api.read('/v1/types/never-set');
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ type: 'never-set', activeWindowMinutes: null, replaceWindowMinutes: null, deliveryEnabled: true, overLimit: 'defer', updatedAt: null });
  });

  test('PATCH of the delivery switch keeps both windows; GET shows what is stored', async () => {
    expect((await api.put('/v1/types/coach', { activeWindowMinutes: 15, replaceWindowMinutes: 30 })).status).toBe(200);
    const patched = await api.patchPath('/v1/types/coach', { deliveryEnabled: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ type: 'coach', activeWindowMinutes: 15, replaceWindowMinutes: 30, deliveryEnabled: false });
    const read = await api.read('/v1/types/coach');
    expect(read.body).toMatchObject({ activeWindowMinutes: 15, replaceWindowMinutes: 30, deliveryEnabled: false });
    expect(Date.parse(read.body.updatedAt)).not.toBeNaN();
  });

  test('PATCH can clear one window with null, and PUT resets what it leaves out', async () => {
    await api.put('/v1/types/digest', { activeWindowMinutes: 5, replaceWindowMinutes: 60, deliveryEnabled: false });
    const cleared = await api.patchPath('/v1/types/digest', { replaceWindowMinutes: null });
    expect(cleared.body).toMatchObject({ activeWindowMinutes: 5, replaceWindowMinutes: null, deliveryEnabled: false });
    const replaced = await api.put('/v1/types/digest', { activeWindowMinutes: 10 });
    expect(replaced.body).toMatchObject({ activeWindowMinutes: 10, replaceWindowMinutes: null, deliveryEnabled: true });
  });

  test('PATCH of a type not yet configured starts from the defaults', async () => {
    const created = await api.patchPath('/v1/types/fresh', { activeWindowMinutes: 20 });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ type: 'fresh', activeWindowMinutes: 20, replaceWindowMinutes: null, deliveryEnabled: true });
  });

  test('an empty or unknown PATCH is refused with 400 and changes nothing', async () => {
    await api.put('/v1/types/steady', { activeWindowMinutes: 7 });
    for (const body of [{}, { deliveryEnabled: 'no' }, { colour: 'blue' }]) {
      const refused = await api.patchPath('/v1/types/steady', body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('validation_failed');
    }
    expect((await api.read('/v1/types/steady')).body).toMatchObject({ activeWindowMinutes: 7, replaceWindowMinutes: null, deliveryEnabled: true });
  });

  test('the lists show every configured type and category', async () => {
    await api.put('/v1/types/listed', { deliveryEnabled: true });
    await api.put('/v1/categories/security', { quietHours: 'bypass' });
    const types = await api.read('/v1/types');
    expect(types.body.items.map((t: { type: string }) => t.type)).toContain('listed');
    const categories = await api.read('/v1/categories');
    expect(categories.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ category: 'security', quietHours: 'bypass' })]));
    expect((await api.read('/v1/categories/security')).body).toMatchObject({ category: 'security', quietHours: 'bypass' });
    expect((await api.read('/v1/categories/unset')).body).toEqual({ category: 'unset', quietHours: 'defer', mandatory: false, updatedAt: null });
  });

  test('a mandatory category cannot be opted out of: 422 naming it, and nothing is saved', async () => {
    expect((await api.put('/v1/categories/account-security', { quietHours: 'bypass', mandatory: true })).body).toMatchObject({ mandatory: true });
    await api.put('/v1/users/mandatory-user/preferences', { optedOutCategories: ['promo'] });
    const refused = await api.put('/v1/users/mandatory-user/preferences', { optedOutCategories: ['promo', 'account-security'] });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('category_mandatory');
    expect(refused.body.error.message).toContain('account-security');
    expect(refused.body.error.details).toEqual({ categories: ['account-security'] });
    expect((await api.read('/v1/users/mandatory-user/preferences')).body.optedOutCategories).toEqual(['promo']);
    // PUT is the whole document: left out, mandatory goes back to false.
    expect((await api.put('/v1/categories/account-security', { quietHours: 'bypass' })).body.mandatory).toBe(false);
  });

  test('every change is in the audit log with who made it; a refused change is not', async () => {
    const actor = `key:${createHash('sha256').update(API_KEY).digest('hex').slice(0, 12)}`;
    await api.put('/v1/types/audited', { activeWindowMinutes: 3 });
    await api.patchPath('/v1/types/audited', { deliveryEnabled: false });
    await api.patchPath('/v1/types/audited', { colour: 'blue' }); // refused: not recorded
    await api.put('/v1/categories/audited-category', { quietHours: 'drop' });
    await api.put('/v1/delivery', { enabled: true });
    await api.put('/v1/templates/audited/en/default', { title: 'Hi', body: 'Hello {{name}}' });

    const log = await api.read('/v1/audit?limit=4');
    expect(log.status).toBe(200);
    expect(log.body.items.map((e: any) => [e.action, e.subject, e.actor])).toEqual([
      ['template.put', 'audited/en/default', actor],
      ['delivery.switch', 'delivery', actor],
      ['category.put', 'audited-category', actor],
      ['type.patch', 'audited', actor],
    ]);
    expect(log.body.items[3].change).toEqual({ deliveryEnabled: false });
    expect(Date.parse(log.body.items[0].at)).not.toBeNaN();

    // The next page carries on where this one stopped; a subject filter shows one setting's history.
    const next = await api.read(`/v1/audit?limit=1&cursor=${log.body.nextCursor}`);
    expect(next.body.items.map((e: any) => [e.action, e.change])).toEqual([['type.put', { activeWindowMinutes: 3, replaceWindowMinutes: null, deliveryEnabled: true, overLimit: 'defer' }]]);
    const history = await api.read('/v1/audit?subject=audited');
    expect(history.body.items.map((e: any) => e.action)).toEqual(['type.patch', 'type.put']);
    expect(history.body.nextCursor).toBeNull();
  });

  test('a malformed audit query is a 400', async () => {
    for (const query of ['limit=0', 'limit=abc', 'cursor=-3', 'cursor=x', 'colour=blue']) {
      const refused = await api.read(`/v1/audit?${query}`);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('validation_failed');
    }
  });

  test('a recipient\'s preferences read back as stored, and as the defaults before any were set', async () => {
    expect((await api.read('/v1/users/prefs-none/preferences')).body).toEqual({
      userId: 'prefs-none',
      timeZone: null,
      quietHours: null,
      optedOutCategories: [],
      preferredChannels: [],
      disabledChannels: {},
      locale: null,
      lastActiveAt: null,
    });
    const prefs = {
      timeZone: 'Asia/Seoul',
      quietHours: { start: '22:00', end: '07:00' },
      optedOutCategories: ['marketing'],
      preferredChannels: ['webpush', 'webhook'],
      disabledChannels: { marketing: ['webpush'] },
      locale: 'ko-KR',
    };
    const saved = await api.put('/v1/users/prefs-set/preferences', prefs);
    expect(saved.status).toBe(200);
    const read = await api.read('/v1/users/prefs-set/preferences');
    expect(read.body).toEqual(saved.body);
    expect(read.body).toMatchObject({ userId: 'prefs-set', ...prefs });
  });

  test('templates read back one by one and as a list; an unknown one is a 404', async () => {
    await api.put('/v1/templates/readback/en/default', { title: 'Hi', body: 'Hello {{name}}' });
    await api.put('/v1/templates/readback/ko/webhook', { body: '안녕 {{name}}' });
    const one = await api.read('/v1/templates/readback/ko/webhook');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ key: 'readback', locale: 'ko', channel: 'webhook', title: null, body: '안녕 {{name}}' });
    const list = await api.read('/v1/templates?key=readback');
    expect(list.body.items.map((t: any) => `${t.locale}/${t.channel}`)).toEqual(['en/default', 'ko/webhook']);
    const missing = await api.read('/v1/templates/readback/fr/default');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('template_not_found');
    expect((await api.read('/v1/templates?key=bad%20key')).status).toBe(400);
  });
});
