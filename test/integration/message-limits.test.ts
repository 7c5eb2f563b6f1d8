import type { ChannelAdapter } from '../../src/channels/types';
import { webhookWorld } from '../setup/scenario';

/*
 * A message a channel's provider would refuse for its size is refused at create time, with the
 * channel, the size and the limit, and nothing is stored. FCM is an in-process adapter here: the
 * check runs in the API, before any adapter is called.
 */
const fcm: ChannelAdapter = { channel: 'fcm', send: async () => ({ providerMessageId: 'never-called' }) };
const w = webhookWorld('limits', { adapters: { fcm } });

// Hangul takes 3 bytes a character in UTF-8: 1,500 of them fit the API's 4,000-character body but not FCM's 4,096 bytes.
const hangul = (n: number) => '가'.repeat(n);

test('FCM: inline content over 4,096 bytes is a 422 naming the channel, its size and the limit; nothing is stored', async () => {
  const userId = await w.recipient();
  const refused = await w.api.create({ userId, channels: ['fcm'], content: { title: 'sizes', body: hangul(1500) } });
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({ code: 'message_too_large', details: { channel: 'fcm', limit: 4096, unit: 'bytes' } });
  expect(refused.body.error.details.size).toBeGreaterThan(4500);
  expect((await w.api.list(`userId=${userId}`)).body.items).toEqual([]);

  const fits = await w.api.create({ userId, channels: ['fcm'], content: { title: 'sizes', body: hangul(1300) } });
  expect(fits.status).toBe(202);
  await w.api.cancel(fits.body.id);
});

test('Web Push: the limit is what one encrypted record carries (3,993 bytes of payload), data included', async () => {
  const userId = await w.recipient();
  const refused = await w.api.create({ userId, channels: ['webpush'], content: { body: 'x'.repeat(3900), data: { ref: 'y'.repeat(100) } } });
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({ code: 'message_too_large', details: { channel: 'webpush', limit: 3993, unit: 'bytes' } });
});

test('a webhook has no limit of its own: the same text is accepted and delivered whole', async () => {
  const userId = await w.recipient();
  const created = await w.api.create({ userId, channels: ['webhook'], content: { body: hangul(1500) } });
  expect(created.status).toBe(202);
  await w.api.waitFor(created.body.id, 'DELIVERED');
  const [delivery] = w.receiver.received.filter((r) => JSON.parse(r.body).data.notificationId === created.body.id);
  expect(JSON.parse(delivery.body).data.body).toBe(hangul(1500));
});

test('a template is measured as rendered for the recipient, so a large value refuses the create; any channel over its limit refuses all', async () => {
  const userId = await w.recipient();
  expect((await w.api.put('/v1/templates/digest/en/default', { title: 'Your digest', body: '{{items}}' })).status).toBeLessThan(300);
  const refused = await w.api.create({ userId, channels: ['webhook', 'fcm'], template: { key: 'digest', data: { items: hangul(1500) } } });
  expect(refused.status).toBe(422);
  expect(refused.body.error.details).toMatchObject({ channel: 'fcm' });
  expect((await w.api.list(`userId=${userId}`)).body.items).toEqual([]);
  const small = await w.api.create({ userId, channels: ['webhook', 'fcm'], template: { key: 'digest', data: { items: 'three new posts' } } });
  expect(small.status).toBe(202);
  await w.api.cancel(small.body.id);
});
