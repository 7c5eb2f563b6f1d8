import { Agent, fetch, type Response } from 'undici';
import { guardedLookup, OutboundRefused, urlRefusal, type OutboundPolicy, type Resolve } from '../net/outbound';
import { ChannelError, parseRetryAfter, type ChannelAdapter, type SendRequest } from './types';
import { signWebhook } from './signature';

export interface WebhookOptions {
  timeoutMs: number;
  outbound: OutboundPolicy;
  /** DNS for the outbound check; tests pass their own. */
  resolve?: Resolve;
}

/** The target points where Herald may not go: it is disabled, and nothing is sent. */
const refused = (reason: string) => new ChannelError('permanent', 'webhook_address_refused', `refused: ${reason}`, { disableTarget: true });

/**
 * A JSON POST signed the Standard Webhooks way; the notification id is the message id, stable across
 * retries. Connections go only to addresses the outbound policy allows, checked after DNS resolution
 * on the very address connected to; redirects are never followed.
 */
export function createWebhookAdapter({ timeoutMs, outbound, resolve }: WebhookOptions): ChannelAdapter {
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(outbound, resolve) } });
  return {
    channel: 'webhook',
    async send(request: SendRequest) {
      const { notificationId, target, message } = request;
      const secret = target.secrets?.signingSecret;
      if (!secret) throw new ChannelError('configuration', 'webhook_secret_missing', 'webhook target has no signing secret');
      // An IP-literal host never reaches the lookup: it is checked here.
      const refusal = urlRefusal(target.address, outbound);
      if (refusal) throw refused(refusal);
      const timestamp = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        type: 'notification',
        timestamp: new Date(timestamp * 1000).toISOString(),
        data: {
          notificationId,
          userId: request.userId,
          type: request.type,
          category: request.category,
          ...message,
          metadata: request.metadata ?? {},
        },
      });
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await fetch(target.address, {
          method: 'POST',
          redirect: 'manual',
          dispatcher,
          signal: request.signal ? AbortSignal.any([request.signal, timeout]) : timeout,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Herald-Webhooks/1',
            'webhook-id': notificationId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(secret, notificationId, timestamp, body),
          },
          body,
        });
      } catch (err) {
        const cause = (err as Error).cause;
        if (cause instanceof OutboundRefused) throw refused(cause.message);
        const timedOut = timeout.aborted;
        throw new ChannelError(
          'retryable',
          timedOut ? 'webhook_timeout' : 'webhook_unreachable',
          timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${(err as Error).cause ?? (err as Error).message}`,
        );
      }
      await response.body?.cancel();
      return classify(response, notificationId);
    },
  };
}

function classify(response: Response, notificationId: string) {
  const { status } = response;
  if (status >= 200 && status < 300) return { httpStatus: status, providerMessageId: notificationId };
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  if (status === 429 || status === 408 || status >= 500) {
    const code = status === 429 ? 'webhook_rate_limited' : status === 408 ? 'webhook_timeout' : 'webhook_server_error';
    throw new ChannelError('retryable', code, `receiver answered HTTP ${status}`, { httpStatus: status, retryAfterMs });
  }
  // 404/410 say the endpoint is gone; other 4xx usually reject this payload, not the endpoint itself.
  const gone = status === 404 || status === 410;
  throw new ChannelError('permanent', gone ? 'webhook_gone' : 'webhook_rejected', `receiver answered HTTP ${status}`, {
    httpStatus: status,
    disableTarget: gone,
  });
}
