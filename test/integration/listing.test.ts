import { initialRow, insertNotification } from '../../src/db/notifications';
import { inSeconds, webhookWorld } from '../setup/scenario';
import { DATABASES } from '../setup/stack';

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const idsOf = (response: { body: { items: Array<{ id: string }> } }) => response.body.items.map((n) => n.id);

describe.each(DATABASES)('listing and bulk cancel (%s)', (database) => {
  const w = webhookWorld(`list-${database}`, { database, env: { THROTTLE_BURST: '0' } });

  async function create(userId: string, extra: Record<string, unknown> = {}) {
    const created = await w.api.create({ userId, channels: ['webhook'], content: { body: 'hi' }, scheduledAt: inSeconds(3600), ...extra });
    expect(created.status).toBe(202);
    return created.body as { id: string; createdAt: string; scheduledAt: string };
  }
  async function delivered(userId: string, extra: Record<string, unknown> = {}) {
    const { id } = await create(userId, { scheduledAt: undefined, ...extra });
    expect((await w.api.waitFor(id, 'DELIVERED')).status).toBe('DELIVERED');
    return id;
  }
  /** Follows nextCursor to the end; `between(page)` runs after each page is read. */
  async function pageThrough(query: string, limit: number, between?: (page: number) => Promise<void>) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await w.api.list(`${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...idsOf(page));
      cursor = page.body.nextCursor;
      pages++;
      await between?.(pages);
    } while (cursor);
    return { seen, pages };
  }

  describe('GET /v1/notifications filters', () => {
    let userId: string;
    let pending: Array<{ id: string; createdAt: string; scheduledAt: string }>;
    let deliveredIds: string[];
    let cancelledId: string;
    const dueBase = Date.now() + 24 * 3600_000;
    const due = (hours: number) => new Date(dueBase + hours * 3600_000).toISOString();

    beforeAll(async () => {
      userId = await w.recipient();
      pending = [];
      for (const hours of [1, 2, 3]) pending.push(await create(userId, { scheduledAt: due(hours), type: hours === 2 ? 'digest' : 'general' }));
      deliveredIds = [await delivered(userId), await delivered(userId, { type: 'digest' })];
      cancelledId = (await create(userId)).id;
      expect((await w.api.cancel(cancelledId)).body.status).toBe('CANCELLED');
      await create(await w.recipient()); // someone else's, never listed below
    });

    test('userId lists only that user’s notifications, newest first', async () => {
      const all = await w.api.list(`userId=${userId}`);
      expect(all.status).toBe(200);
      expect(idsOf(all)).toEqual([cancelledId, ...[...deliveredIds].reverse(), ...pending.map((p) => p.id).reverse()]);
      expect(all.body.items.every((n: any) => n.userId === userId)).toBe(true);
      expect(all.body.nextCursor).toBeNull();
    });

    test('status takes a comma-separated list', async () => {
      const both = await w.api.list(`userId=${userId}&status=SCHEDULED,DELIVERED`);
      expect(new Set(idsOf(both))).toEqual(new Set([...pending.map((p) => p.id), ...deliveredIds]));
      expect(idsOf(await w.api.list(`userId=${userId}&status=CANCELLED`))).toEqual([cancelledId]);
      expect(idsOf(await w.api.list(`userId=${userId}&status=FAILED`))).toEqual([]);
    });

    test('an unknown status is refused, naming the field and the allowed values', async () => {
      const bad = await w.api.list(`userId=${userId}&status=SCHEDULED,SENT`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
      expect(bad.body.error.message).toMatch(/status.*SCHEDULED, DEFERRED/);
    });

    test('type narrows to one notification type', async () => {
      const digests = await w.api.list(`userId=${userId}&type=digest`);
      expect(new Set(idsOf(digests))).toEqual(new Set([pending[1].id, deliveredIds[1]]));
      expect(idsOf(await w.api.list(`userId=${userId}&type=digest&status=SCHEDULED`))).toEqual([pending[1].id]);
    });

    test('scheduledFrom/scheduledTo select a due-time range, both ends inclusive', async () => {
      const range = await w.api.list(`userId=${userId}&scheduledFrom=${due(2)}&scheduledTo=${due(3)}`);
      expect(new Set(idsOf(range))).toEqual(new Set([pending[1].id, pending[2].id]));
      const after = await w.api.list(`userId=${userId}&scheduledFrom=${encodeURIComponent(new Date(dueBase + 90 * 60_000).toISOString())}`);
      expect(new Set(idsOf(after))).toEqual(new Set([pending[1].id, pending[2].id]));
    });

    test('createdFrom/createdTo select a creation-time range, both ends inclusive', async () => {
      const all = (await w.api.list(`userId=${userId}`)).body.items as Array<{ id: string; createdAt: string }>;
      const [from, to] = [pending[1].createdAt, all.find((n) => n.id === deliveredIds[0])!.createdAt];
      const expected = all.filter((n) => n.createdAt >= from && n.createdAt <= to).map((n) => n.id);
      expect(expected).toEqual(expect.arrayContaining([pending[1].id, pending[2].id, deliveredIds[0]]));
      expect(idsOf(await w.api.list(`userId=${userId}&createdFrom=${from}&createdTo=${to}`))).toEqual(expected);
      expect(idsOf(await w.api.list(`userId=${userId}&createdFrom=${inSeconds(60)}`))).toEqual([]);
    });

    test('a range given in another time zone means the same instant', async () => {
      const plusNine = new Date(Date.parse(due(2)) + 9 * 3600_000).toISOString().replace('Z', '+09:00');
      const range = await w.api.list(`userId=${userId}&scheduledFrom=${encodeURIComponent(plusNine)}&scheduledTo=${due(2)}`);
      expect(idsOf(range)).toEqual([pending[1].id]);
    });
  });

  describe('cursor pagination', () => {
    test('limit=3 pages cover every notification once and in order, also across rows sharing a created_at', async () => {
      const userId = await w.recipient();
      const created = await Promise.all(Array.from({ length: 5 }, () => create(userId)));
      // Rows with one identical created_at, which only the id tiebreak of the keyset orders
      // (written straight to the projection: listing reads nothing else).
      const tied = new Date();
      for (let i = 0; i < 7; i++) {
        const row = initialRow({
          notificationId: `ntf_tie_${userId}_${i}`,
          idempotencyKey: `tie-${userId}-${i}`,
          requestFingerprint: 'tie',
          userId,
          type: 'general',
          category: 'general',
          channels: ['webhook'],
          routing: 'all',
          content: { body: 'tie' },
          scheduledAt: inSeconds(3600),
        });
        expect(await insertNotification(w.stack.database.db, { ...row, createdAt: tied })).toBe(true);
      }
      const reference = idsOf(await w.api.list(`userId=${userId}&limit=200`));
      expect(reference).toHaveLength(12);
      expect(new Set(reference)).toEqual(new Set([...created.map((c) => c.id), ...Array.from({ length: 7 }, (_, i) => `ntf_tie_${userId}_${i}`)]));

      const { seen, pages } = await pageThrough(`userId=${userId}`, 3);
      expect(seen).toEqual(reference);
      expect(pages).toBe(4);
    });

    test('notifications created while a client pages through neither shift nor repeat the later pages', async () => {
      const userId = await w.recipient();
      const before: string[] = [];
      for (let i = 0; i < 8; i++) before.push((await create(userId)).id);
      const inserted: string[] = [];

      const { seen } = await pageThrough(`userId=${userId}`, 3, async () => {
        for (let i = 0; i < 2; i++) inserted.push((await create(userId)).id);
      });
      expect(seen).toEqual([...before].reverse());
      expect(seen.filter((id) => inserted.includes(id))).toEqual([]);
      // A new listing starts from the top and sees everything.
      expect(idsOf(await w.api.list(`userId=${userId}&limit=200`))).toEqual([...before, ...inserted].reverse());
    });

    test('a status filter and paging combine', async () => {
      const userId = await w.recipient();
      const kept: string[] = [];
      for (let i = 0; i < 7; i++) {
        const { id } = await create(userId);
        if (i % 2 === 0) await w.api.cancel(id);
        else kept.push(id);
      }
      const { seen } = await pageThrough(`userId=${userId}&status=SCHEDULED`, 2);
      expect(seen).toEqual([...kept].reverse());
    });

    test.each([
      ['not base64 JSON', 'definitely-not-a-cursor'],
      ['JSON null', cursorOf(null)],
      ['an array', cursorOf([])],
      ['no createdAt', cursorOf({ id: 'ntf_x' })],
      ['a createdAt that is not a date', cursorOf({ id: 'ntf_x', createdAt: 'yesterday' })],
      ['a numeric id', cursorOf({ id: 7, createdAt: new Date().toISOString() })],
    ])('a cursor that is %s → 400 invalid_cursor', async (_name, cursor) => {
      const bad = await w.api.list(`limit=3&cursor=${encodeURIComponent(cursor)}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toEqual({ code: 'invalid_cursor', message: expect.stringMatching(/cursor/) });
    });
  });

  describe('POST /v1/notifications:bulkCancel', () => {
    const bulkCancel = (body: unknown) => w.api.post('/v1/notifications:bulkCancel', body);
    const statusOf = async (id: string) => (await w.api.get(id)).body.status;

    test('a dry run (the default) reports what would be cancelled and changes nothing', async () => {
      const userId = await w.recipient();
      const promos = [await create(userId, { type: 'promo' }), await create(userId, { type: 'promo' })].map((c) => c.id);
      await delivered(userId, { type: 'promo' });
      await create(userId, { type: 'other' });

      const dry = await bulkCancel({ filter: { userId, type: 'promo' } });
      expect(dry.status).toBe(200);
      expect(dry.body).toEqual({ dryRun: true, matched: 2, sampleIds: expect.any(Array) });
      expect(new Set(dry.body.sampleIds)).toEqual(new Set(promos));
      expect(await Promise.all(promos.map(statusOf))).toEqual(['SCHEDULED', 'SCHEDULED']);
      expect((await bulkCancel({ filter: { userId, type: 'promo' }, confirm: false })).body.dryRun).toBe(true);
    });

    test('confirm: true cancels only the pending notifications matching the filter, and counts them', async () => {
      const userId = await w.recipient();
      const soon = [await create(userId, { scheduledAt: inSeconds(1800) }), await create(userId, { scheduledAt: inSeconds(1900) })];
      const later = await create(userId, { scheduledAt: inSeconds(7200) });
      const sent = await delivered(userId);
      const bystander = await create(await w.recipient(), { scheduledAt: inSeconds(1800) });

      const done = await bulkCancel({ filter: { userId, scheduledTo: inSeconds(3600) }, confirm: true });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ dryRun: false, matched: 2, cancelled: 2, tooLate: 0, failed: 0, remaining: 0 });
      expect(new Set(done.body.sampleIds)).toEqual(new Set(soon.map((s) => s.id)));
      for (const { id } of soon) {
        const detail = (await w.api.get(id)).body;
        expect(detail).toMatchObject({ status: 'CANCELLED', statusReason: 'requested' });
      }
      expect(await statusOf(later.id)).toBe('SCHEDULED');
      expect(await statusOf(sent)).toBe('DELIVERED');
      expect(await statusOf(bystander.id)).toBe('SCHEDULED');
      // Nothing pending matches any more.
      expect((await bulkCancel({ filter: { userId, scheduledTo: inSeconds(3600) }, confirm: true })).body).toMatchObject({ matched: 0, cancelled: 0 });
    });

    test('limit caps one confirmed call and reports what remains', async () => {
      const userId = await w.recipient();
      for (let i = 0; i < 3; i++) await create(userId, { type: 'batch' });
      const first = await bulkCancel({ filter: { userId, type: 'batch' }, confirm: true, limit: 2 });
      expect(first.body).toMatchObject({ matched: 3, cancelled: 2, remaining: 1 });
      expect((await bulkCancel({ filter: { userId, type: 'batch' }, confirm: true })).body).toMatchObject({ matched: 1, cancelled: 1, remaining: 0 });
    });

    test.each([
      ['an empty filter', { filter: {} }, /filter must name at least one criterion/],
      ['an empty filter with confirm: true', { filter: {}, confirm: true }, /filter must name at least one criterion/],
      ['an unknown filter field', { filter: { user: 'u' } }, /user/],
      ['no filter at all', { confirm: true }, /filter/],
      ['a status in the filter (only pending ones are ever touched)', { filter: { status: 'DELIVERED' } }, /status/],
      ['confirm as a string', { filter: { userId: 'u' }, confirm: 'yes' }, /confirm/],
    ])('%s → 400, naming the problem', async (_name, body, message) => {
      const before = (await w.api.list('status=SCHEDULED&limit=200')).body.items.length;
      const bad = await bulkCancel(body);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
      expect(bad.body.error.message).toMatch(message);
      expect((await w.api.list('status=SCHEDULED&limit=200')).body.items.length).toBe(before);
    });
  });
});
