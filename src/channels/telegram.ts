import { ChannelError, parseRetryAfter, type ChannelAdapter, type RenderedMessage, type SendRequest } from './types';

export interface TelegramOptions {
  botToken: string;
  /** https://api.telegram.org, or a local Bot API server. */
  apiBaseUrl: string;
  timeoutMs: number;
}

/** The Bot API's envelope, on success and on failure alike. */
interface BotApiAnswer {
  ok?: boolean;
  result?: { message_id?: number };
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** Telegram refuses longer texts outright; a shortened message beats a permanent failure. */
const MAX_TEXT_LENGTH = 4096;

export function createTelegramAdapter({ botToken, apiBaseUrl, timeoutMs }: TelegramOptions): ChannelAdapter {
  if (!botToken) throw new Error('the Telegram bot token is empty');
  // The token is part of the URL path, so anything that might echo the URL has to go through this.
  const redact = (text: string) => text.split(botToken).join('<bot-token>');
  const sendMessageUrl = `${apiBaseUrl.replace(/\/+$/, '')}/bot${botToken}/sendMessage`;

  return {
    channel: 'telegram',
    async send(request: SendRequest) {
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await fetch(sendMessageUrl, {
          method: 'POST',
          redirect: 'error',
          signal: request.signal ? AbortSignal.any([request.signal, timeout]) : timeout,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chat_id: request.target.address, text: messageText(request.message) }),
        });
      } catch (err) {
        if (timeout.aborted) throw new ChannelError('retryable', 'telegram_timeout', `no answer within ${timeoutMs} ms`);
        if (request.signal?.aborted) throw new ChannelError('retryable', 'telegram_cancelled', 'send cancelled');
        const { cause, message } = err as Error;
        const detail = cause ? `${message} (${String(cause)})` : message;
        throw new ChannelError('retryable', 'telegram_unreachable', redact(`request failed: ${detail}`));
      }
      const answer = (await response.json().catch(() => ({}))) as BotApiAnswer;
      if (response.ok && answer.ok) {
        return { httpStatus: response.status, providerMessageId: String(answer.result?.message_id) };
      }
      throw failure(response, answer, redact);
    },
  };
}

function messageText({ title, body, url }: RenderedMessage): string {
  const text = [title, body, url].filter((part) => part).join('\n\n');
  if (text.length <= MAX_TEXT_LENGTH) return text;
  // Cut on a code point boundary, so no lone surrogate is left behind.
  return `${text.slice(0, MAX_TEXT_LENGTH - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}

function failure(response: Response, answer: BotApiAnswer, redact: (text: string) => string): ChannelError {
  const status = answer.error_code ?? response.status;
  const httpStatus = response.status;
  const reason = redact(`Telegram answered ${status}: ${answer.description ?? response.statusText}`);
  if (status === 429) {
    const retryAfterMs = answer.parameters?.retry_after !== undefined ? answer.parameters.retry_after * 1000 : parseRetryAfter(response.headers.get('retry-after'));
    return new ChannelError('retryable', 'telegram_rate_limited', reason, { httpStatus, retryAfterMs });
  }
  // "bot was blocked by the user", "user is deactivated", "bot was kicked from the group chat": the chat is gone for us.
  if (status === 403) return new ChannelError('permanent', 'telegram_blocked', reason, { httpStatus, disableTarget: true });
  if (status === 400 && /chat not found/i.test(answer.description ?? '')) {
    return new ChannelError('permanent', 'telegram_chat_not_found', reason, { httpStatus, disableTarget: true });
  }
  // A group became a supergroup: the old chat id will never work again (the new one is in the answer).
  if (status === 400 && answer.parameters?.migrate_to_chat_id !== undefined) {
    return new ChannelError('permanent', 'telegram_chat_migrated', reason, { httpStatus, disableTarget: true });
  }
  // The Bot API answers 401 for a malformed token and 404 for an unknown one.
  if (status === 401 || status === 404) return new ChannelError('configuration', 'telegram_bad_token', reason, { httpStatus });
  // 5xx, and answers that are not the Bot API's at all (a proxy's page): try again later.
  if (status >= 500 || status === 408 || status < 400) return new ChannelError('retryable', 'telegram_unavailable', reason, { httpStatus });
  return new ChannelError('permanent', 'telegram_rejected', reason, { httpStatus });
}
