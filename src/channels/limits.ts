import iconv from 'iconv-lite';
import type { Channel } from '../../workflows/definitions';
import { FCM_PAYLOAD_LIMIT, fcmPayloadBytes } from './fcm';
import type { RenderedMessage } from './types';
import { WEB_PUSH_PAYLOAD_LIMIT, webPushPayload } from './webpush';

export interface Oversize {
  channel: Channel;
  size: number;
  limit: number;
  unit: 'bytes' | 'characters';
}

/** What the deployment decided about long texts (SMS_LONG_MESSAGES). */
interface LimitOptions {
  smsLongMessages: 'lms' | 'refuse';
}

/** Korean carriers count SMS in EUC-KR bytes: 1 per ASCII character, 2 per Hangul syllable. */
export const smsBytes = (text: string) => iconv.encode(text, 'euc-kr').length;
/** Carriers carry EUC-KR only: anything else (an emoji) would arrive as "?". */
export const smsCanCarry = (text: string) => iconv.decode(iconv.encode(text, 'euc-kr'), 'euc-kr') === text;
export const SMS_LIMIT = 90;
const LMS_LIMIT = 2000;
/** KakaoTalk Alimtalk's limit on a message's text. */
const KAKAO_TEXT_LIMIT = 1000;

interface Measure {
  unit: Oversize['unit'];
  limit: (options: LimitOptions) => number;
  size: (notificationId: string, message: RenderedMessage) => number;
}

/**
 * Channels whose provider refuses a message over a size: the size of this message as the channel's
 * adapter would send it. Telegram shortens instead (its adapter truncates at 4,096 characters);
 * webhooks and email have no limit of their own.
 */
const MEASURES: Partial<Record<Channel, Measure>> = {
  fcm: { unit: 'bytes', limit: () => FCM_PAYLOAD_LIMIT, size: fcmPayloadBytes },
  webpush: { unit: 'bytes', limit: () => WEB_PUSH_PAYLOAD_LIMIT, size: (id, message) => Buffer.byteLength(webPushPayload(id, message)) },
  sms: { unit: 'bytes', limit: ({ smsLongMessages }) => (smsLongMessages === 'lms' ? LMS_LIMIT : SMS_LIMIT), size: (_id, { body }) => smsBytes(body) },
  kakao: { unit: 'characters', limit: () => KAKAO_TEXT_LIMIT, size: (_id, { body }) => [...body].length },
};

/** How far this message is over the channel's limit, or undefined when the channel can carry it. */
export function oversize(channel: Channel, notificationId: string, message: RenderedMessage, options: LimitOptions): Oversize | undefined {
  const measure = MEASURES[channel];
  if (!measure) return undefined;
  const size = measure.size(notificationId, message);
  const limit = measure.limit(options);
  return size > limit ? { channel, size, limit, unit: measure.unit } : undefined;
}
