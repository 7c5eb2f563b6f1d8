import type { Channel, Metadata } from '../../workflows/definitions';

/** What a recipient sees, after template rendering. */
export interface RenderedMessage {
  title?: string;
  body: string;
  data?: Record<string, string>;
  url?: string;
  /** Email only: the HTML part, from the template's `html`. */
  html?: string;
  /** KakaoTalk only: the provider's approved template id, from the template. */
  providerTemplateId?: string;
}

export interface TargetRecord {
  id: string;
  userId: string;
  channel: Channel;
  address: string;
  secrets: Record<string, string> | null;
}

export interface SendRequest {
  notificationId: string;
  userId: string;
  type: string;
  category: string;
  metadata?: Metadata;
  message: RenderedMessage;
  target: TargetRecord;
  /** Aborted when Temporal cancels the activity or its attempt times out. */
  signal?: AbortSignal;
}

export interface SendReceipt {
  providerMessageId?: string;
  httpStatus?: number;
}

/** One adapter per channel; everything provider-specific stays behind this. */
export interface ChannelAdapter {
  readonly channel: Channel;
  send(request: SendRequest): Promise<SendReceipt>;
}

/**
 * How a provider failure must be handled:
 * - `permanent`: no retry; `disableTarget` says whether the target is gone for good;
 * - `retryable`: Temporal retries, after `retryAfterMs` when the provider said when to come back;
 * - `configuration`: our credentials or setup are wrong, not the target: logged at error level, the
 *   target kept, and retried after the channel's long configuration delay, so fixing the setup
 *   recovers every push still within its retry budget.
 */
export type FailureKind = 'permanent' | 'retryable' | 'configuration';

export class ChannelError extends Error {
  constructor(
    readonly kind: FailureKind,
    /** Stable machine-readable code, used as the ApplicationFailure type. */
    readonly code: string,
    message: string,
    readonly extra: { httpStatus?: number; retryAfterMs?: number; disableTarget?: boolean } = {},
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** For provider clients that take no AbortSignal: stop waiting when the send is cancelled (the call itself runs on). */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal | undefined, cancelled: () => ChannelError): Promise<T> {
  if (!signal) return pending;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Shortens a token, endpoint or URL to something recognisable that is safe to log and show. */
export function targetHint(address: string): string {
  try {
    const url = new URL(address);
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      const tail = url.pathname.length > 12 ? `…${url.pathname.slice(-8)}` : url.pathname;
      return `${url.protocol}//${url.host}${tail}`;
    }
  } catch {
    // not a URL: a token or chat id
  }
  return address.length <= 12 ? address : `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** Parses an HTTP Retry-After header (seconds or HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
