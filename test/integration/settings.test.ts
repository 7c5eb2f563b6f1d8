import { client } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';

/*
 * Operator settings can be read back, and changing one field of a type's settings leaves the others
 * as they were (PATCH); PUT replaces the whole document, as its name says.
 */
describe('type and category settings: read-back and one-field changes', () => {
  let stack: TestStack;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    stack = await startTestStack({ database: 'pglite' });
    api = client(stack);
  });
  afterAll(() => stack?.stop());

  test('a type nobody configured reads as the defaults that apply to it', async () => {
    const read = await api.read('/v1/types/never-set');
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ type: 'never-set', activeWindowMinutes: null, replaceWindowMinutes: null, deliveryEnabled: true, updatedAt: null });
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
    expect((await api.read('/v1/categories/unset')).body).toEqual({ category: 'unset', quietHours: 'defer', updatedAt: null });
  });
});
