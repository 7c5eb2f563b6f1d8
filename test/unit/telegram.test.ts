import { createTelegramAdapter } from '../../src/channels/telegram';
import type { SendRequest } from '../../src/channels/types';
import { failureOf as expectFailure, sendRequest } from '../setup/channel-request';
import { botApiError, startTelegramServer, type FakeTelegram } from '../setup/telegram-server';

const botToken = '7234567890:AAH4f_kQ9cLx-2v8TzRgWm3pYb6nE1sJdUo';

const request = (message: Partial<SendRequest['message']> = {}, signal?: AbortSignal) =>
  sendRequest(
    { channel: 'telegram', address: '123456789', secrets: null },
    { message: { title: 'Shipped', body: 'Your order is on its way', ...message }, signal },
  );
// The bot token is in the URL path; it must never reach logs or the attempts table.
const failureOf = (promise: Promise<unknown>) => expectFailure(promise, botToken, botToken.split(':')[1]);

describe('Telegram adapter against a loopback Bot API', () => {
  let telegram: FakeTelegram;
  const adapter = () => createTelegramAdapter({ botToken, apiBaseUrl: telegram.apiBaseUrl, timeoutMs: 2000 });

  beforeAll(async () => {
    telegram = await startTelegramServer({ botToken });
  });
  afterAll(() => telegram.close());

  test('sends title, body and link to the chat and returns the message id', async () => {
    const receipt = await adapter().send(request({ url: 'https://shop.example/orders/42' }));
    const call = telegram.calls.at(-1)!;
    expect([call.token, call.method, call.chatId]).toEqual([botToken, 'sendMessage', '123456789']);
    expect(call.text).toBe('Shipped\n\nYour order is on its way\n\nhttps://shop.example/orders/42');
    expect(receipt).toEqual({ httpStatus: 200, providerMessageId: expect.stringMatching(/^\d+$/) });
  });

  test('a message without a title is just the body; an overlong one is shortened, not refused', async () => {
    await adapter().send(request({ title: undefined }));
    expect(telegram.calls.at(-1)!.text).toBe('Your order is on its way');
    await adapter().send(request({ title: undefined, body: '😀'.repeat(3000) }));
    const text = telegram.calls.at(-1)!.text as string;
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text.endsWith('😀…')).toBe(true);
  });

  test.each([
    ['429 with retry_after', botApiError(429, 'Too Many Requests: retry after 35', { retry_after: 35 }), 'retryable', 'telegram_rate_limited', undefined, 35_000],
    ['429 with only a Retry-After header', { ...botApiError(429, 'Too Many Requests'), headers: { 'retry-after': '4' } }, 'retryable', 'telegram_rate_limited', undefined, 4000],
    ['403 blocked', botApiError(403, 'Forbidden: bot was blocked by the user'), 'permanent', 'telegram_blocked', true, undefined],
    ['403 deactivated', botApiError(403, 'Forbidden: user is deactivated'), 'permanent', 'telegram_blocked', true, undefined],
    ['400 chat not found', botApiError(400, 'Bad Request: chat not found'), 'permanent', 'telegram_chat_not_found', true, undefined],
    ['400 migrated', botApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: -1001 }), 'permanent', 'telegram_chat_migrated', true, undefined],
    ['400 other', botApiError(400, "Bad Request: can't parse entities"), 'permanent', 'telegram_rejected', undefined, undefined],
    ['500', botApiError(500, 'Internal Server Error'), 'retryable', 'telegram_unavailable', undefined, undefined],
    ['502 from a proxy', { status: 502, body: 'Bad Gateway' }, 'retryable', 'telegram_unavailable', undefined, undefined],
  ])('%s', async (_case, answer, kind, code, disableTarget, retryAfterMs) => {
    telegram.respondWith(answer);
    const err = await failureOf(adapter().send(request()));
    expect({ kind: err.kind, code: err.code, ...err.extra }).toEqual({ kind, code, httpStatus: answer.status, disableTarget, retryAfterMs });
  });

  test('a token the Bot API does not know is a configuration error, and is not repeated in the message', async () => {
    const wrong = createTelegramAdapter({ botToken: `${botToken}x`, apiBaseUrl: telegram.apiBaseUrl, timeoutMs: 2000 });
    const err = await failureOf(wrong.send(request()));
    expect([err.kind, err.code, err.extra.httpStatus]).toEqual(['configuration', 'telegram_bad_token', 401]);
    expect(err.message).toBe('Telegram answered 401: Unauthorized');
  });

  test('a slow Bot API times out as retryable', async () => {
    telegram.respondWith({ ...botApiError(500, 'late'), delayMs: 1000 });
    const slow = createTelegramAdapter({ botToken, apiBaseUrl: telegram.apiBaseUrl, timeoutMs: 100 });
    const err = await failureOf(slow.send(request()));
    expect([err.kind, err.code]).toEqual(['retryable', 'telegram_timeout']);
  });

  test('cancellation is retryable and says so', async () => {
    telegram.respondWith({ ...botApiError(500, 'late'), delayMs: 1000 });
    const err = await failureOf(adapter().send(request({}, AbortSignal.timeout(50))));
    expect([err.kind, err.code]).toEqual(['retryable', 'telegram_cancelled']);
  });

  test('network failures are retryable and never quote the URL', async () => {
    const closed = await startTelegramServer({ botToken });
    await closed.close();
    const unreachable = createTelegramAdapter({ botToken, apiBaseUrl: closed.apiBaseUrl, timeoutMs: 2000 });
    const err = await failureOf(unreachable.send(request()));
    expect([err.kind, err.code]).toEqual(['retryable', 'telegram_unreachable']);
    // fetch quotes the whole URL when it cannot parse it.
    const unparsable = createTelegramAdapter({ botToken, apiBaseUrl: 'http://exa mple', timeoutMs: 2000 });
    const parseErr = await failureOf(unparsable.send(request()));
    expect(parseErr.code).toBe('telegram_unreachable');
    expect(parseErr.message).toContain('/bot<bot-token>/sendMessage');
  });
});
