import { cancelSignal, cancelUpdate, changeUpdate } from '../../workflows/definitions';
import { client, inSeconds, statusesOf, webhookWorld } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../setup/webhook-receiver';

describe('notification lifecycle on a real Temporal dev server', () => {
  // START_DELAY_FROM 2s: a notification due more than 2 s ahead waits on a start delay until 2 s before its due time, as one due
  // more than 5 minutes ahead does by default until 5 minutes before.
  const w = webhookWorld('life', { env: { DELIVERY_OFF_RECHECK: '1s', THROTTLE_BURST: '0', START_DELAY_FROM: '2s' } });
  const deliveriesTo = (userId: string) => w.receiver.received.filter((r) => JSON.parse(r.body).data.userId === userId);
  const webhook = (userId: string, extra: Record<string, unknown> = {}) => ({
    userId,
    channels: ['webhook'],
    content: { body: `hello ${userId}` },
    ...extra,
  });

  describe('cancel', () => {
    test('DELETE cancels a pending notification for good and says so; repeating it is harmless', async () => {
      const userId = await w.recipient();
      const created = await w.api.create(webhook(userId, { scheduledAt: inSeconds(3) }));
      const cancelled = await w.api.cancel(created.body.id);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('CANCELLED');
      expect(cancelled.body.statusReason).toBe('requested');
      expect(statusesOf(cancelled.body)).toEqual(['SCHEDULED(accepted)', 'CANCELLED(requested)']);
      expect((await w.api.cancel(created.body.id)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 4000));
      expect(deliveriesTo(userId)).toHaveLength(0);
    });

    test('DELETE after sending answers 409 too_late with the time sending began', async () => {
      const userId = await w.recipient();
      const created = await w.api.create(webhook(userId));
      const done = await w.api.waitFor(created.body.id, 'DELIVERED');
      const late = await w.api.cancel(created.body.id);
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('too_late');
      expect(late.body.error.details.sendingStartedAt).toBe(done.sendingStartedAt);
      expect(late.body.error.message).toContain(done.sendingStartedAt);
    });

    test('an operator cancels at once with `temporal workflow update execute --name cancelNotification`', async () => {
      const userId = await w.recipient();
      const created = await w.api.create(webhook(userId, { scheduledAt: inSeconds(3600) }));
      const view = await w.stack.temporal.client.workflow.getHandle(created.body.id).executeUpdate(cancelUpdate, { args: ['operator'] });
      expect(view.phase).toBe('CANCELLED');
      const detail = await w.api.get(created.body.id);
      expect(detail.body.status).toBe('CANCELLED');
      expect(detail.body.transitions.at(-1)).toMatchObject({ to: 'CANCELLED', reason: 'requested', details: { note: 'operator' } });
    });

    test('a `cancel` signal to a notification still waiting for its start is carried out when its run starts: it never sends', async () => {
      const userId = await w.recipient();
      // Its run starts 2 s before the due time, so 2 s from now: until then the signal waits.
      const created = await w.api.create(webhook(userId, { scheduledAt: inSeconds(4) }));
      await w.stack.temporal.client.workflow.getHandle(created.body.id).signal(cancelSignal, 'operator');
      expect((await w.api.get(created.body.id)).body.status).toBe('SCHEDULED');
      const detail = await w.api.waitFor(created.body.id, 'CANCELLED', 'DELIVERED', 'FAILED', 'EXPIRED');
      expect(statusesOf(detail)).toEqual(['SCHEDULED(accepted)', 'CANCELLED(requested)']);
      expect(detail.transitions.at(-1)).toMatchObject({ details: { note: 'operator' } });
      expect(deliveriesTo(userId)).toHaveLength(0);
    });
  });

  describe('reschedule and replace', () => {
    test('PATCH scheduledAt moves the due time of a pending notification', async () => {
      const userId = await w.recipient();
      const created = await w.api.create(webhook(userId, { scheduledAt: inSeconds(3600) }));
      const newTime = inSeconds(2);
      const moved = await w.api.patch(created.body.id, { scheduledAt: newTime });
      expect(moved.status).toBe(200);
      expect(moved.body.scheduledAt).toBe(newTime);
      expect(statusesOf(moved.body)).toEqual(['SCHEDULED(accepted)', 'SCHEDULED(rescheduled)']);
      await w.api.waitFor(created.body.id, 'DELIVERED');
      expect(deliveriesTo(userId)[0].receivedAt).toBeGreaterThanOrEqual(Date.parse(newTime));
    });

    test('PATCH content swaps what will be sent', async () => {
      const userId = await w.recipient();
      const created = await w.api.create(webhook(userId, { scheduledAt: inSeconds(2) }));
      const replaced = await w.api.patch(created.body.id, { content: { title: 'New', body: 'replacement text' } });
      expect(replaced.body.content).toEqual({ title: 'New', body: 'replacement text' });
      await w.api.waitFor(created.body.id, 'DELIVERED');
      expect(JSON.parse(deliveriesTo(userId)[0].body).data).toMatchObject({ title: 'New', body: 'replacement text' });
    });

    test('operators reschedule with `temporal workflow update execute --name changeNotification`', async () => {
      const userId = await w.recipient();
      const created = await w.api.create(webhook(userId, { scheduledAt: inSeconds(3600) }));
      const newTime = inSeconds(1);
      await w.stack.temporal.client.workflow.getHandle(created.body.id).executeUpdate(changeUpdate, { args: [{ scheduledAt: newTime }] });
      const done = await w.api.waitFor(created.body.id, 'DELIVERED', 'FAILED', 'CANCELLED', 'EXPIRED');
      expect(statusesOf(done)).toEqual(['SCHEDULED(accepted)', 'SCHEDULED(rescheduled)', 'SENDING', 'DELIVERED']);
      expect(done.scheduledAt).toBe(newTime);
      expect(deliveriesTo(userId)).toHaveLength(1);
    });

    test('PATCH after delivery is too late, and a PATCH with nothing to change is refused', async () => {
      const userId = await w.recipient();
      const created = await w.api.create(webhook(userId));
      await w.api.waitFor(created.body.id, 'DELIVERED');
      expect((await w.api.patch(created.body.id, { scheduledAt: inSeconds(60) })).body.error.code).toBe('too_late');
      expect((await w.api.patch(created.body.id, {})).status).toBe(400);
    });
  });

  describe('replacement', () => {
    test('a newer notification with the same collapseKey replaces the pending one', async () => {
      const userId = await w.recipient();
      const older = await w.api.create(webhook(userId, { scheduledAt: inSeconds(3600), collapseKey: 'bedtime' }));
      const newer = await w.api.create(webhook(userId, { scheduledAt: inSeconds(3600), collapseKey: 'bedtime' }));
      expect(newer.body.replaced).toEqual([older.body.id]);
      const old = await w.api.waitFor(older.body.id, 'CANCELLED');
      expect(old.statusReason).toBe('replaced');
      expect(old.replacedBy).toBe(newer.body.id);
      expect((await w.api.get(newer.body.id)).body.status).toBe('SCHEDULED');
    });

    test('ten concurrent creates with one collapseKey leave exactly one survivor', async () => {
      const userId = await w.recipient();
      const created = await Promise.all(
        Array.from({ length: 10 }, () => w.api.create(webhook(userId, { scheduledAt: inSeconds(3600), collapseKey: 'race' }))),
      );
      expect(created.every((c) => c.status === 202)).toBe(true);
      const ids = created.map((c) => c.body.id);
      const finals = await Promise.all(ids.map((id) => w.api.waitFor(id, 'CANCELLED', 'SCHEDULED')));
      await new Promise((r) => setTimeout(r, 1000));
      const after = await Promise.all(ids.map((id) => w.api.get(id)));
      const survivors = after.filter((r) => r.body.status === 'SCHEDULED');
      expect(finals).toHaveLength(10);
      expect(survivors).toHaveLength(1);
      expect(after.filter((r) => r.body.statusReason === 'replaced')).toHaveLength(9);
    });

    test('a type with a replacement window replaces any pending notification of the user due within ±W minutes', async () => {
      const userId = await w.recipient();
      expect((await w.api.put('/v1/types/coach', { replaceWindowMinutes: 30 })).status).toBe(200);
      const near = await w.api.create(webhook(userId, { type: 'other', scheduledAt: inSeconds(3600) }));
      const far = await w.api.create(webhook(userId, { type: 'other', scheduledAt: inSeconds(3 * 3600) }));
      const newer = await w.api.create(webhook(userId, { type: 'coach', scheduledAt: inSeconds(3600 + 20 * 60) }));
      expect(newer.body.replaced).toEqual([near.body.id]);
      expect((await w.api.waitFor(near.body.id, 'CANCELLED')).replacedBy).toBe(newer.body.id);
      expect((await w.api.get(far.body.id)).body.status).toBe('SCHEDULED');
    });
  });

  describe('due-time checks', () => {
    test('expiry: a notification held past its expiresAt ends EXPIRED', async () => {
      const userId = await w.recipient();
      await w.api.put('/v1/types/held', { deliveryEnabled: false });
      const created = await w.api.create(webhook(userId, { type: 'held', expiresAt: inSeconds(3) }));
      const detail = await w.api.waitFor(created.body.id, 'EXPIRED');
      expect(statusesOf(detail)).toEqual(['SCHEDULED(accepted)', 'DEFERRED(delivery_off)', 'EXPIRED(expired)']);
      expect(deliveriesTo(userId)).toHaveLength(0);
    });

    test('opt-out: a category the user opted out of is cancelled at the due time', async () => {
      const userId = await w.recipient();
      await w.api.put(`/v1/users/${userId}/preferences`, { optedOutCategories: ['promo'] });
      const created = await w.api.create(webhook(userId, { category: 'promo' }));
      expect((await w.api.waitFor(created.body.id, 'CANCELLED')).statusReason).toBe('opted_out');
      const other = await w.api.create(webhook(userId, { category: 'reminders' }));
      await w.api.waitFor(other.body.id, 'DELIVERED');
    });

    test('a mandatory category is delivered even to a recipient who opted out of it before it became mandatory', async () => {
      const userId = await w.recipient();
      await w.api.put(`/v1/users/${userId}/preferences`, { optedOutCategories: ['security'] });
      await w.api.put('/v1/categories/security', { quietHours: 'defer', mandatory: true });
      const created = await w.api.create(webhook(userId, { category: 'security' }));
      expect(statusesOf(await w.api.waitFor(created.body.id, 'DELIVERED', 'CANCELLED'))).toEqual(['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
      expect(deliveriesTo(userId)).toHaveLength(1);
    });

    test('recent activity: a user active within the type’s window is not disturbed', async () => {
      const userId = await w.recipient();
      await w.api.put('/v1/types/nudge', { activeWindowMinutes: 10 });
      expect((await w.api.post(`/v1/users/${userId}/activity`, {})).status).toBe(200);
      const nudge = await w.api.create(webhook(userId, { type: 'nudge' }));
      expect((await w.api.waitFor(nudge.body.id, 'CANCELLED')).statusReason).toBe('user_active');
      // Activity long ago does not count.
      const idle = await w.recipient();
      await w.api.post(`/v1/users/${idle}/activity`, { at: inSeconds(-3600) });
      await w.api.waitFor((await w.api.create(webhook(idle, { type: 'nudge' }))).body.id, 'DELIVERED');
    });

    test('delivery switch: off holds (never drops) and on releases, globally and per type', async () => {
      const userId = await w.recipient();
      await w.api.put('/v1/delivery', { enabled: false });
      try {
        const held = await w.api.create(webhook(userId));
        const deferred = await w.api.waitFor(held.body.id, 'DEFERRED');
        expect(deferred.statusReason).toBe('delivery_off');
        expect(deferred.live).toMatchObject({ phase: 'DEFERRED', deferReason: 'delivery_off' });
        await new Promise((r) => setTimeout(r, 2500));
        expect((await w.api.get(held.body.id)).body.status).toBe('DEFERRED');
        await w.api.put('/v1/delivery', { enabled: true });
        await w.api.waitFor(held.body.id, 'DELIVERED');
      } finally {
        await w.api.put('/v1/delivery', { enabled: true });
      }
    });

    describe('quiet hours', () => {
      const hhmm = (offsetMinutes: number) => new Date(Date.now() + offsetMinutes * 60_000).toISOString().slice(11, 16);
      const quietNow = { start: hhmm(-60), end: hhmm(60) };

      test('defer: held until the window ends, with the wake-up time explained; a preference change releases it', async () => {
        const userId = await w.recipient();
        await w.api.put(`/v1/users/${userId}/preferences`, { timeZone: 'UTC', quietHours: quietNow });
        const created = await w.api.create(webhook(userId));
        const deferred = await w.api.waitFor(created.body.id, 'DEFERRED');
        expect(deferred.statusReason).toBe('quiet_hours');
        expect(deferred.live.deferReason).toBe('quiet_hours');
        expect(deferred.live.nextWakeAt.slice(11, 16)).toBe(quietNow.end);
        expect(Date.parse(deferred.live.nextWakeAt)).toBeGreaterThan(Date.now() + 55 * 60_000);
        await w.api.put(`/v1/users/${userId}/preferences`, { timeZone: 'UTC', quietHours: null });
        await w.api.waitFor(created.body.id, 'DELIVERED');
      });

      test('drop: a category set to drop is cancelled during quiet hours', async () => {
        const userId = await w.recipient();
        await w.api.put('/v1/categories/marketing', { quietHours: 'drop' });
        await w.api.put(`/v1/users/${userId}/preferences`, { timeZone: 'UTC', quietHours: quietNow });
        const created = await w.api.create(webhook(userId, { category: 'marketing' }));
        expect((await w.api.waitFor(created.body.id, 'CANCELLED')).statusReason).toBe('quiet_hours_drop');
      });

      test('bypass: a critical category is sent during quiet hours', async () => {
        const userId = await w.recipient();
        await w.api.put('/v1/categories/security', { quietHours: 'bypass' });
        await w.api.put(`/v1/users/${userId}/preferences`, { timeZone: 'UTC', quietHours: quietNow });
        const created = await w.api.create(webhook(userId, { category: 'security' }));
        const done = await w.api.waitFor(created.body.id, 'DELIVERED', 'DEFERRED', 'CANCELLED', 'FAILED');
        // Sent straight away: never held for the quiet window.
        expect(statusesOf(done)).toEqual(['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
        expect(deliveriesTo(userId)).toHaveLength(1);
      });

      describe("a channel's own quiet hours, read in the recipient's time zone", () => {
        // Seoul keeps UTC+9 all year: the window is written in Seoul time and covers the hour around now.
        const inSeoul = (at: Date) => new Date(at.getTime() + 9 * 3_600_000).toISOString().slice(11, 16);
        const endsAt = new Date(Date.now() + 3_600_000);
        const quietInSeoul = { start: inSeoul(new Date(endsAt.getTime() - 7_200_000)), end: inSeoul(endsAt) };
        afterEach(() => w.api.put('/v1/channels/webhook', { quietHours: null }));

        test('hold a notification on that channel until the window ends; lifting them releases it at once', async () => {
          const userId = await w.recipient();
          await w.api.put(`/v1/users/${userId}/preferences`, { timeZone: 'Asia/Seoul' });
          const saved = await w.api.put('/v1/channels/webhook', { quietHours: quietInSeoul });
          expect(saved.body).toMatchObject({ channel: 'webhook', quietHours: quietInSeoul });
          expect((await w.api.read('/v1/channels/webhook')).body.quietHours).toEqual(quietInSeoul);
          const created = await w.api.create(webhook(userId));
          const deferred = await w.api.waitFor(created.body.id, 'DEFERRED');
          expect(deferred.live.deferReason).toBe('channel_quiet_hours');
          // The window's end in Seoul, nine hours earlier in UTC.
          expect(deferred.live.nextWakeAt.slice(11, 16)).toBe(endsAt.toISOString().slice(11, 16));
          expect(deliveriesTo(userId)).toHaveLength(0);
          await w.api.put('/v1/channels/webhook', { quietHours: null });
          await w.api.waitFor(created.body.id, 'DELIVERED');
          expect((await w.api.read('/v1/audit?subject=webhook')).body.items[0]).toMatchObject({ action: 'channel.put', change: { quietHours: null } });
        });

        test('a bypass category goes out inside them; another channel is not held by them', async () => {
          const userId = await w.recipient();
          await w.api.put('/v1/categories/security', { quietHours: 'bypass' });
          await w.api.put(`/v1/users/${userId}/preferences`, { timeZone: 'Asia/Seoul' });
          await w.api.put('/v1/channels/telegram', { quietHours: quietInSeoul });
          try {
            const onWebhook = await w.api.create(webhook(userId));
            await w.api.waitFor(onWebhook.body.id, 'DELIVERED');
            await w.api.put('/v1/channels/webhook', { quietHours: quietInSeoul });
            const urgent = await w.api.create(webhook(userId, { category: 'security' }));
            expect(statusesOf(await w.api.waitFor(urgent.body.id, 'DELIVERED'))).toEqual(['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
          } finally {
            await w.api.put('/v1/channels/telegram', { quietHours: null });
          }
        });

        test('an invalid window or channel is a 400 that changes nothing', async () => {
          expect((await w.api.put('/v1/channels/webhook', { quietHours: { start: '25:00', end: '08:00' } })).status).toBe(400);
          expect((await w.api.put('/v1/channels/pigeon', { quietHours: null })).status).toBe(400);
          expect((await w.api.read('/v1/channels/webhook')).body.quietHours).toBeNull();
        });
      });
    });
  });
});

describe('recipient throttle', () => {
  let stack: TestStack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    // One token, refilled every 3 seconds.
    stack = await startTestStack({ env: { THROTTLE_BURST: '1', THROTTLE_PER_HOUR: '1200' } });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  test('a second notification within the bucket is deferred until a token refills, then sent after checks run again', async () => {
    const api = client(stack);
    await api.registerWebhook('throttled', receiver.url);
    const first = await api.create({ userId: 'throttled', channels: ['webhook'], content: { body: 'one' } });
    await api.waitFor(first.body.id, 'DELIVERED');
    const second = await api.create({ userId: 'throttled', channels: ['webhook'], content: { body: 'two' } });
    const deferred = await api.waitFor(second.body.id, 'DEFERRED', 'DELIVERED');
    expect(deferred.status).toBe('DEFERRED');
    expect(deferred.statusReason).toBe('throttled');
    const delivered = await api.waitFor(second.body.id, 'DELIVERED');
    expect(statusesOf(delivered)).toEqual(['SCHEDULED(accepted)', 'DEFERRED(throttled)', 'SENDING', 'DELIVERED']);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1].receivedAt - receiver.received[0].receivedAt).toBeGreaterThanOrEqual(2000);
  });
  test('a type set to refuse answers 429 with Retry-After instead of deferring, stores nothing, and leaves other types alone', async () => {
    const api = client(stack);
    expect((await api.patchPath('/v1/types/runaway', { overLimit: 'refuse' })).body.overLimit).toBe('refuse');
    await api.registerWebhook('flooded', receiver.url);
    const later = new Date(Date.now() + 600_000).toISOString();
    const body = (n: number, type = 'runaway') => ({ userId: 'flooded', type, channels: ['webhook'], content: { body: `flood ${n}` }, scheduledAt: later });

    // One token: the first fits, the second would wait for the token the first takes.
    const first = await api.create(body(1), 'flood-1');
    expect(first.status).toBe(202);
    const second = await api.create(body(2), 'flood-2');
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('recipient_over_limit');
    // 1,200 tokens an hour: one every 3 s.
    expect(Number(second.headers.get('retry-after'))).toBe(3);
    expect((await api.list('userId=flooded')).body.items.map((n: { id: string }) => n.id)).toEqual([first.body.id]);

    // The repeat of an accepted request is still answered as one; a type that defers still accepts.
    expect((await api.create(body(1), 'flood-1')).status).toBe(200);
    const deferring = await api.create(body(3, 'patient'), 'flood-3');
    expect(deferring.status).toBe(202);
    await api.cancel(first.body.id);
    await api.cancel(deferring.body.id);
  });
});
