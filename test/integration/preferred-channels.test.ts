import type { ChannelAdapter, SendRequest } from '../../src/channels/types';
import { statusesOf, webhookWorld } from '../setup/scenario';

/*
 * `channels: "preferred"` (or no channels at all) sends on the recipient's own choice of channels,
 * in their order, with fallback routing: a channel the recipient cannot be reached on is passed
 * over for the next one. Telegram here is an in-process adapter that records what it was given.
 */
const telegram: SendRequest[] = [];
const recordingTelegram: ChannelAdapter = { channel: 'telegram', send: async (request) => (telegram.push(request), { providerMessageId: `tg-${telegram.length}` }) };

const w = webhookWorld('preferred', { adapters: { telegram: recordingTelegram }, env: { THROTTLE_BURST: '0' } });
const received = (userId: string) => w.receiver.received.filter((r) => JSON.parse(r.body).data.userId === userId);

test('a recipient who prefers Telegram but has no chat registered gets it by webhook, the next channel', async () => {
  const userId = await w.recipient();
  await w.api.put(`/v1/users/${userId}/preferences`, { preferredChannels: ['telegram', 'webhook'] });
  const created = await w.api.create({ userId, content: { body: 'your way' } });
  expect(created.status).toBe(202);
  expect(created.body).toMatchObject({ channels: ['telegram', 'webhook'], routing: 'fallback' });
  const detail = await w.api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
  expect(statusesOf(detail)).toEqual(['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
  // Telegram's line says why it was passed over; nothing was sent on it.
  expect(detail.attempts.map((a: { channel: string; outcome: string; errorCode: string | null }) => `${a.channel}:${a.outcome}:${a.errorCode}`)).toEqual([
    'telegram:skipped:no_active_target',
    'webhook:delivered:null',
  ]);
  expect(received(userId)).toHaveLength(1);
});

test('with a chat registered, the first preferred channel takes it and the next one is never tried', async () => {
  const userId = await w.recipient();
  await w.api.put(`/v1/users/${userId}/preferences`, { preferredChannels: ['telegram', 'webhook'] });
  expect((await w.api.post(`/v1/users/${userId}/telegram-chats`, { chatId: 777 })).status).toBe(201);
  const created = await w.api.create({ userId, channels: 'preferred', content: { body: 'first choice' } });
  await w.api.waitFor(created.body.id, 'DELIVERED');
  expect(telegram.filter((t) => t.notificationId === created.body.id)).toHaveLength(1);
  expect(received(userId)).toHaveLength(0);
});

test('a channel turned off for a category is left out; none left is a 422 that stores nothing', async () => {
  const userId = await w.recipient();
  await w.api.put(`/v1/users/${userId}/preferences`, { preferredChannels: ['webhook', 'telegram'], disabledChannels: { promo: ['webhook'] } });
  const promo = await w.api.create({ userId, category: 'promo', content: { body: 'sale' } });
  expect(promo.body.channels).toEqual(['telegram']);
  await w.api.cancel(promo.body.id);

  await w.api.put(`/v1/users/${userId}/preferences`, { preferredChannels: ['webhook'], disabledChannels: { promo: ['webhook'] } });
  const refused = await w.api.create({ userId, category: 'promo', content: { body: 'sale' } });
  expect(refused.status).toBe(422);
  expect(refused.body.error.code).toBe('no_preferred_channel');
  expect((await w.api.list(`userId=${userId}&status=SCHEDULED`)).body.items).toEqual([]);
});

test('without saved preferences, push channels come first, then the rest this deployment has; explicit channels work as before', async () => {
  const userId = await w.recipient();
  const created = await w.api.create({ userId, content: { body: 'defaults' } });
  // This deployment has Web Push (its VAPID keys are generated), Telegram and webhooks; no FCM.
  expect(created.body).toMatchObject({ channels: ['webpush', 'telegram', 'webhook'], routing: 'fallback' });
  await w.api.waitFor(created.body.id, 'DELIVERED');
  expect(received(userId)).toHaveLength(1);
  const explicit = await w.api.create({ userId, channels: ['webhook'], content: { body: 'as before' } });
  expect(explicit.body).toMatchObject({ channels: ['webhook'], routing: 'all' });
  await w.api.waitFor(explicit.body.id, 'DELIVERED');
});
