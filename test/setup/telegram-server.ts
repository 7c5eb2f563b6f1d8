import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TelegramCall {
  /** The token from the `/bot<token>/` path, as the server saw it. */
  token: string;
  method: string;
  chatId: unknown;
  text: unknown;
  body: any;
  receivedAt: number;
}

export interface TelegramAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Hold the answer this long (to exercise timeouts). */
  delayMs?: number;
}

export interface FakeTelegram {
  apiBaseUrl: string;
  calls: TelegramCall[];
  /** Answers to give, in order; once used up, every call succeeds with the next message id. */
  respondWith(...answers: TelegramAnswer[]): void;
  close(): Promise<void>;
}

/** The Bot API's error envelope. */
export function botApiError(errorCode: number, description: string, parameters?: Record<string, number>): TelegramAnswer {
  return { status: errorCode, body: { ok: false, error_code: errorCode, description, ...(parameters ? { parameters } : {}) } };
}

/** A Telegram Bot API on loopback that knows one bot token and answers like the real one to anything else. */
export async function startTelegramServer({ botToken }: { botToken: string }): Promise<FakeTelegram> {
  const calls: TelegramCall[] = [];
  const answers: TelegramAnswer[] = [];
  let messageId = 1000;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [, token = '', method = ''] = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '') ?? [];
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      calls.push({ token: decodeURIComponent(token), method, chatId: body.chat_id, text: body.text, body, receivedAt: Date.now() });
      const answer = token === botToken ? (answers.shift() ?? sent(body)) : botApiError(token ? 401 : 404, token ? 'Unauthorized' : 'Not Found');
      const reply = () => res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });

  function sent(body: any): TelegramAnswer {
    return { status: 200, body: { ok: true, result: { message_id: ++messageId, chat: { id: body.chat_id }, text: body.text } } };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    apiBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    respondWith: (...a) => answers.push(...a),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
