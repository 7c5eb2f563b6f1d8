import type { Channel } from '../../workflows/definitions';
import { FCM_PAYLOAD_LIMIT, fcmPayloadBytes } from './fcm';
import type { RenderedMessage } from './types';
import { WEB_PUSH_PAYLOAD_LIMIT, webPushPayload } from './webpush';

export interface Oversize {
  channel: Channel;
  bytes: number;
  limitBytes: number;
}

/**
 * Channels whose provider refuses a message over a size: the size of this message as the channel's
 * adapter would send it. Telegram shortens instead (its adapter truncates at 4,096 characters) and
 * webhooks have no limit of their own.
 */
const MEASURES: Partial<Record<Channel, { limitBytes: number; bytes: (notificationId: string, message: RenderedMessage) => number }>> = {
  fcm: { limitBytes: FCM_PAYLOAD_LIMIT, bytes: fcmPayloadBytes },
  webpush: { limitBytes: WEB_PUSH_PAYLOAD_LIMIT, bytes: (id, message) => Buffer.byteLength(webPushPayload(id, message)) },
};

/** How far this message is over the channel's limit, or undefined when the channel can carry it. */
export function oversize(channel: Channel, notificationId: string, message: RenderedMessage): Oversize | undefined {
  const measure = MEASURES[channel];
  if (!measure) return undefined;
  const bytes = measure.bytes(notificationId, message);
  return bytes > measure.limitBytes ? { channel, bytes, limitBytes: measure.limitBytes } : undefined;
}
