import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import { createPublicKey } from 'node:crypto';
import { guardedLookup, OutboundRefused, urlRefusal, type OutboundPolicy, type Resolve } from '../net/outbound';
import { getVapidHeaders, sendNotification, WebPushError, type Urgency } from 'web-push';
import { ChannelError, parseRetryAfter, targetHint, type ChannelAdapter, type RenderedMessage, type SendRequest } from './types';

export interface VapidKeys {
  /** `mailto:` or `https:` contact the push services can reach us at. */
  subject: string;
  publicKey: string;
  privateKey: string;
}

export interface WebPushOptions {
  vapid: VapidKeys;
  /** Extra push service hosts ('host' or 'host:port') beyond the well-known browser services. */
  allowedHosts: string[];
  ttlSeconds?: number;
  timeoutMs?: number;
  /** Where a subscription may lead, checked after DNS on the address connected to. */
  outbound: OutboundPolicy;
  resolve?: Resolve;
}

/** Where browsers' subscriptions point; anything else is a request forgery risk unless allow-listed. */
const KNOWN_PUSH_SERVICES = ['fcm.googleapis.com', 'updates.push.services.mozilla.com', 'web.push.apple.com', '*.push.apple.com', '*.notify.windows.com'];

export function isAllowedPushEndpoint(endpoint: string, allowedHosts: string[]): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  const listed = allowedHosts.some((entry) => sameHost(url, entry));
  if (url.protocol === 'https:') return listed || (url.port === '' && KNOWN_PUSH_SERVICES.some((p) => hostMatches(url.hostname, p)));
  // Plain HTTP never leaves the machine: only a named loopback push service (development, tests).
  return url.protocol === 'http:' && listed && isLoopback(url.hostname);
}

/** 'host' means the scheme's default port, 'host:port' exactly that port; URL parsing normalises case and IP forms. */
function sameHost(url: URL, entry: string): boolean {
  try {
    return new URL(`${url.protocol}//${entry.trim()}`).host === url.host;
  } catch {
    return false;
  }
}

function hostMatches(hostname: string, pattern: string): boolean {
  return pattern.startsWith('*.') ? hostname.endsWith(pattern.slice(1)) : hostname === pattern;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The most plaintext one aes128gcm record carries within the 4,096 bytes push services must accept
 * (RFC 8291/8188): less the header (16-byte salt, 4-byte record size, 1-byte key id length, 65-byte
 * key), the 16-byte tag and the 1-byte padding delimiter.
 */
export const WEB_PUSH_PAYLOAD_LIMIT = 4096 - 86 - 16 - 1;

/** What the service worker receives: the JSON this adapter encrypts. */
export function webPushPayload(notificationId: string, { title, body, data, url }: RenderedMessage): string {
  return JSON.stringify({ notificationId, title, body, data, url });
}

const URGENCIES: readonly string[] = ['very-low', 'low', 'normal', 'high'] satisfies Urgency[];
/** RFC 8030 Topic: at most 32 URL-safe base64 characters (notification ids fit). */
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;

export function createWebPushAdapter({ vapid, allowedHosts, ttlSeconds = 86_400, timeoutMs = 10_000, outbound, resolve }: WebPushOptions): ChannelAdapter {
  assertVapidUsable(vapid);
  const lookup = guardedLookup(outbound, resolve);
  const refused = (reason: string) => new ChannelError('permanent', 'webpush_endpoint_refused', `refused: ${reason}`, { disableTarget: true });
  return {
    channel: 'webpush',
    async send(request: SendRequest) {
      const { notificationId, message, target } = request;
      const endpoint = target.address;
      if (!isAllowedPushEndpoint(endpoint, allowedHosts)) {
        throw new ChannelError('permanent', 'webpush_endpoint_not_allowed', `${targetHint(endpoint)} is not an allowed push service`, {
          disableTarget: true,
        });
      }
      const refusal = urlRefusal(endpoint, outbound);
      if (refusal) throw refused(refusal);
      const keys = subscriptionKeys(target.secrets);
      const payload = webPushPayload(notificationId, message);
      const bytes = Buffer.byteLength(payload);
      if (bytes > WEB_PUSH_PAYLOAD_LIMIT) {
        // Every push service refuses a record over 4,096 bytes; the subscription itself is fine.
        throw new ChannelError('permanent', 'webpush_message_too_large', `payload is ${bytes} bytes; Web Push carries at most ${WEB_PUSH_PAYLOAD_LIMIT}`);
      }
      const urgency = message.data?.urgency;

      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
      // web-push takes no AbortSignal and its `timeout` is only an idle timeout: an agent of our own lets
      // cancellation and the overall deadline tear down the socket.
      const agent = agentFor(endpoint, lookup);
      const abort = () => agent.destroy();
      signal.addEventListener('abort', abort, { once: true });
      try {
        if (signal.aborted) throw new Error('aborted before sending');
        const result = await sendNotification({ endpoint, keys }, payload, {
          vapidDetails: vapid,
          TTL: ttlSeconds,
          urgency: urgency && URGENCIES.includes(urgency) ? (urgency as Urgency) : 'high',
          // A redelivery after a crash replaces the undelivered first copy at the push service.
          topic: TOPIC.test(notificationId) ? notificationId : undefined,
          agent,
        });
        return { httpStatus: result.statusCode, providerMessageId: firstHeader(result.headers.location) };
      } catch (err) {
        if (err instanceof WebPushError) throw fromPushServiceAnswer(err, endpoint);
        if (err instanceof OutboundRefused) throw refused(err.message);
        if (deadline.aborted) throw new ChannelError('retryable', 'webpush_timeout', `no answer within ${timeoutMs} ms`);
        if (signal.aborted) throw new ChannelError('retryable', 'webpush_cancelled', 'send cancelled');
        const { code, message: reason } = err as NodeJS.ErrnoException;
        throw new ChannelError('retryable', 'webpush_unreachable', `push service unreachable: ${code ?? reason}`);
      } finally {
        signal.removeEventListener('abort', abort);
        agent.destroy();
      }
    },
  };
}

/** Fail at start-up, not on every send, when the VAPID keys or subject are unusable. */
function assertVapidUsable({ subject, publicKey, privateKey }: VapidKeys): void {
  try {
    getVapidHeaders('https://fcm.googleapis.com', subject, publicKey, privateKey, 'aes128gcm');
  } catch (err) {
    throw new Error(`invalid VAPID configuration: ${(err as Error).message}`);
  }
}

/** The browser's P-256 public key and auth secret; a subscription without usable ones can never be delivered to. */
function subscriptionKeys(secrets: Record<string, string> | null): { p256dh: string; auth: string } {
  const { p256dh = '', auth = '' } = secrets ?? {};
  const point = Buffer.from(p256dh, 'base64url');
  try {
    if (point.length !== 65 || Buffer.from(auth, 'base64url').length !== 16) throw new Error('wrong key length');
    const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
    createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new ChannelError('permanent', 'webpush_invalid_subscription', 'subscription keys (p256dh, auth) are missing or malformed', {
      disableTarget: true,
    });
  }
  return { p256dh, auth };
}

/** web-push always calls https.request; for an allow-listed loopback http endpoint, hand it a plain TCP socket. */
class PlainHttpAgent extends https.Agent {
  constructor(private readonly lookup: LookupFunction) {
    super();
  }

  override createConnection(options: https.RequestOptions) {
    return net.connect({ port: Number(options.port), host: options.host ?? 'localhost', lookup: this.lookup });
  }
}

/** Both kinds connect through the guarded lookup: to an address the outbound policy allows, and only there. */
function agentFor(endpoint: string, lookup: LookupFunction): https.Agent {
  return new URL(endpoint).protocol === 'http:' ? new PlainHttpAgent(lookup) : new https.Agent({ lookup });
}

function fromPushServiceAnswer(err: WebPushError, endpoint: string): ChannelError {
  const status = err.statusCode;
  const reason = `push service answered HTTP ${status}${explanation(err.body, endpoint)}`;
  const retryAfterMs = parseRetryAfter(firstHeader(err.headers['retry-after']));
  if (status === 404 || status === 410) {
    return new ChannelError('permanent', 'webpush_subscription_gone', reason, { httpStatus: status, disableTarget: true });
  }
  if (status === 429) return new ChannelError('retryable', 'webpush_rate_limited', reason, { httpStatus: status, retryAfterMs });
  if (status === 401 || status === 403) return new ChannelError('configuration', 'webpush_vapid_rejected', reason, { httpStatus: status });
  if (status >= 500 || status === 408) {
    return new ChannelError('retryable', 'webpush_unavailable', reason, { httpStatus: status, retryAfterMs });
  }
  // 400 malformed, 413 payload too large, …: this message is refused, the subscription is still fine.
  return new ChannelError('permanent', 'webpush_rejected', reason, { httpStatus: status });
}

/** Push services say why in the body (e.g. a VAPID mismatch); keep it short and without the endpoint, a bearer capability. */
function explanation(body: string | undefined, endpoint: string): string {
  const text = body?.trim().split(endpoint).join(targetHint(endpoint)).slice(0, 200);
  return text ? `: ${text}` : '';
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
