import { readFileSync } from 'node:fs';
import { cert, getApps, initializeApp, type ServiceAccount } from 'firebase-admin/app';
import { getMessaging, type Message, type Messaging } from 'firebase-admin/messaging';
import { ChannelError, targetHint, untilAborted, type ChannelAdapter, type FailureKind, type RenderedMessage, type SendRequest } from './types';

/** One named app per process: firebase-admin caches OAuth tokens and connections per app, so never create one per send. */
const FCM_APP_NAME = 'herald-fcm';

export interface FcmCredentials {
  serviceAccountFile?: string;
  serviceAccountJson?: string;
}

/** The Messaging client for a service account, or undefined when FCM is not configured. */
export function fcmMessagingFromCredentials({ serviceAccountFile, serviceAccountJson }: FcmCredentials): Messaging | undefined {
  if (!serviceAccountJson && !serviceAccountFile) return undefined;
  const existing = getApps().find((app) => app.name === FCM_APP_NAME);
  if (existing) return getMessaging(existing);
  const json = serviceAccountJson || readFileSync(serviceAccountFile!, 'utf8');
  return getMessaging(initializeApp({ credential: cert(parseServiceAccount(json)) }, FCM_APP_NAME));
}

function parseServiceAccount(json: string): ServiceAccount {
  try {
    return JSON.parse(json) as ServiceAccount;
  } catch {
    // V8's parse errors quote the surrounding text, which here is a private key.
    throw new Error('the FCM service account is not valid JSON');
  }
}

type FcmMessaging = Pick<Messaging, 'send'>;

export interface FcmOptions {
  /**
   * How long to wait after a quota error. firebase-admin keeps no HTTP headers on its errors, so FCM's
   * Retry-After never reaches us; FCM asks senders to back off at least a minute after QUOTA_EXCEEDED.
   */
  rateLimitDelayMs?: number;
}

export function createFcmAdapter(messaging: FcmMessaging, { rateLimitDelayMs }: FcmOptions = {}): ChannelAdapter {
  return {
    channel: 'fcm',
    async send(request: SendRequest) {
      const token = request.target.address;
      const message = buildMessage(request);
      // FCM answers these with INVALID_ARGUMENT, which would disable a perfectly good token: refuse them here.
      const problem = payloadProblem(message);
      if (problem) throw new ChannelError('permanent', 'fcm_invalid_message', problem);
      let pending: Promise<string>;
      try {
        pending = messaging.send(message);
      } catch (err) {
        // firebase-admin validates synchronously, before any request: the payload is wrong, the token may be fine.
        throw new ChannelError('permanent', 'fcm_invalid_message', `message rejected before sending: ${describe(err, token)}`);
      }
      try {
        // Messaging.send takes no AbortSignal: stop waiting on cancellation (the request itself runs to completion).
        const name = await untilAborted(pending, request.signal, () => new ChannelError('retryable', 'fcm_cancelled', 'send cancelled before FCM answered'));
        return { providerMessageId: name };
      } catch (err) {
        const failure = toChannelError(err, token);
        if (failure.code === 'fcm_rate_limited' && rateLimitDelayMs !== undefined) failure.extra.retryAfterMs = rateLimitDelayMs;
        throw failure;
      }
    },
  };
}

/** What FCM counts towards its payload limit: the notification block and the data map. */
function fcmContent(notificationId: string, { title, body, data, url }: RenderedMessage): Pick<Message, 'notification' | 'data'> {
  return {
    notification: title === undefined ? { body } : { title, body },
    data: { ...data, ...(url === undefined ? {} : { url }), notificationId },
  };
}

export const FCM_PAYLOAD_LIMIT = 4096;

/** The size FCM checks against its 4,096-byte limit, for a message as this adapter would send it. */
export function fcmPayloadBytes(notificationId: string, message: RenderedMessage): number {
  return payloadBytes(fcmContent(notificationId, message));
}

function payloadBytes({ notification, data }: Pick<Message, 'notification' | 'data'>): number {
  return Buffer.byteLength(JSON.stringify({ notification, data }));
}

function buildMessage({ notificationId, target, message }: SendRequest): Message {
  return {
    token: target.address,
    ...fcmContent(notificationId, message),
    // A redelivery after a crash replaces the first copy on the device instead of showing twice.
    android: { collapseKey: notificationId },
    apns: { headers: { 'apns-collapse-id': notificationId } },
  };
}

const RESERVED_DATA_KEY = /^(from|notification|message_type)$|^(google|gcm)/;

/** What FCM would refuse about this message itself (not about the token), if anything. */
function payloadProblem(message: Message): string | undefined {
  const reserved = Object.keys(message.data ?? {}).find((k) => RESERVED_DATA_KEY.test(k));
  if (reserved) return `data key "${reserved}" is reserved by FCM`;
  const size = payloadBytes(message);
  if (size > FCM_PAYLOAD_LIMIT) return `payload is ${size} bytes; FCM accepts at most ${FCM_PAYLOAD_LIMIT}`;
  return undefined;
}

type Rule = { kind: FailureKind; code: string; disableTarget?: boolean };

/** The channel error rules (README, Channels), keyed by firebase-admin's error codes. */
const RULES: Record<string, Rule> = {
  'messaging/registration-token-not-registered': { kind: 'permanent', code: 'fcm_token_unregistered', disableTarget: true },
  'messaging/invalid-registration-token': { kind: 'permanent', code: 'fcm_invalid_token', disableTarget: true },
  // FCM answers INVALID_ARGUMENT for a malformed token too, hence the disable; a malformed payload
  // that firebase-admin can see locally never gets here (fcm_invalid_message above).
  'messaging/invalid-argument': { kind: 'permanent', code: 'fcm_invalid_argument', disableTarget: true },
  'messaging/invalid-package-name': { kind: 'permanent', code: 'fcm_invalid_token', disableTarget: true },
  'messaging/payload-size-limit-exceeded': { kind: 'permanent', code: 'fcm_rejected' },
  'messaging/invalid-data-payload-key': { kind: 'permanent', code: 'fcm_rejected' },
  'messaging/invalid-options': { kind: 'permanent', code: 'fcm_rejected' },
  // firebase-admin keeps no HTTP headers on its errors, so FCM's Retry-After cannot be read: the adapter's
  // rateLimitDelayMs (FCM_RATE_LIMIT_DELAY) stands in for it.
  'messaging/message-rate-exceeded': { kind: 'retryable', code: 'fcm_rate_limited' },
  'messaging/device-message-rate-exceeded': { kind: 'retryable', code: 'fcm_rate_limited' },
  'messaging/topics-message-rate-exceeded': { kind: 'retryable', code: 'fcm_rate_limited' },
  // firebase-admin has already retried HTTP 503 itself (up to 4 times, honouring Retry-After) before this surfaces.
  'messaging/server-unavailable': { kind: 'retryable', code: 'fcm_unavailable' },
  'messaging/internal-error': { kind: 'retryable', code: 'fcm_internal' },
  'messaging/unknown-error': { kind: 'retryable', code: 'fcm_unknown' },
  'messaging/mismatched-credential': { kind: 'configuration', code: 'fcm_mismatched_credential' },
  'messaging/third-party-auth-error': { kind: 'configuration', code: 'fcm_third_party_auth' },
  'messaging/authentication-error': { kind: 'configuration', code: 'fcm_auth_failed' },
  'app/network-error': { kind: 'retryable', code: 'fcm_unreachable' },
  'app/network-timeout': { kind: 'retryable', code: 'fcm_timeout' },
};

/** OAuth answers that mean the service account itself is refused (revoked key, wrong client), not a network blip. */
const REFUSED_CREDENTIAL = /invalid_grant|invalid_client|unauthorized_client/;

function toChannelError(err: unknown, token: string): ChannelError {
  if (err instanceof ChannelError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = describe(err, token);
  // Also an invalid-argument, but about our app, not the token: disabling every token would be a disaster.
  if (code === 'messaging/invalid-argument' && message.includes('Failed to determine project ID')) {
    return new ChannelError('configuration', 'fcm_no_project_id', message);
  }
  if (code === 'app/invalid-credential') {
    // Raised whenever fetching the OAuth token fails, including when Google's token endpoint is unreachable.
    return REFUSED_CREDENTIAL.test(message)
      ? new ChannelError('configuration', 'fcm_invalid_credential', message)
      : new ChannelError('retryable', 'fcm_token_fetch_failed', message);
  }
  const rule = typeof code === 'string' ? RULES[code] : undefined;
  if (!rule) return new ChannelError('retryable', 'fcm_unknown', message);
  return new ChannelError(rule.kind, rule.code, message, { disableTarget: rule.disableTarget });
}

/** The provider's explanation, with the device token (which FCM may quote) cut down to a hint. */
function describe(err: unknown, token: string): string {
  const text = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const explained = typeof code === 'string' ? `${code}: ${text}` : text;
  return token ? explained.split(token).join(targetHint(token)) : explained;
}
