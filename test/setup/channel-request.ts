import { ChannelError, type SendRequest, type TargetRecord } from '../../src/channels/types';

export const NOTIFICATION_ID = 'ntf_01HZX8Q6V4M7K2C9T3B5N8R1WD';

/** What the send activity hands an adapter, for one target. */
export function sendRequest(target: Pick<TargetRecord, 'channel' | 'address' | 'secrets'>, overrides: Partial<SendRequest> = {}): SendRequest {
  return {
    notificationId: NOTIFICATION_ID,
    userId: 'user-1',
    type: 'order.shipped',
    category: 'transactional',
    message: { title: 'Shipped', body: 'Your order is on its way', data: { orderId: '42' }, url: 'https://shop.example/orders/42' },
    target: { id: 'tgt-1', userId: 'user-1', ...target },
    ...overrides,
  };
}

/** Awaits a send that must fail with a ChannelError whose message leaks none of `secrets`. */
export async function failureOf(promise: Promise<unknown>, ...secrets: string[]): Promise<ChannelError> {
  const err = await promise.then(
    () => new Error('expected the send to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelError);
  for (const secret of secrets) expect((err as ChannelError).message).not.toContain(secret);
  return err as ChannelError;
}
