// The webhook receiver of the chaos scenarios, on 127.0.0.1 only: it logs every request (when, for
// which notification, what it answered) and answers each recipient's path from a script of replies,
// so a scenario can play a misbehaving provider.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { onCleanup } from '../bench/cleanup';

/** One reply: a status (429 may say when to come back), or no answer at all until the caller gives up. */
export type Reply = { status: number; retryAfterSeconds?: number } | 'hang';

export interface Arrival {
  /** The notification, from Standard Webhooks' `webhook-id` header (Herald sets it to the notification id). */
  id: string;
  /** The recipient's path, e.g. /u12. */
  path: string;
  at: number;
  reply: Reply;
}

export interface Receiver {
  url: string;
  /** Every request so far, in order of arrival. */
  readonly arrivals: readonly Arrival[];
  /** Requests for `id`, in order. */
  of(id: string): Arrival[];
  /** Requests to `path` take these replies in turn; once they are used up, 204. */
  script(path: string, replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const arrivals: Arrival[] = [];
  const scripts = new Map<string, Reply[]>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const at = Date.now();
    const path = (req.url ?? '/').split('?')[0];
    const reply = scripts.get(path)?.shift() ?? { status: 204 };
    const header = req.headers['webhook-id'];
    arrivals.push({ id: typeof header === 'string' ? header : '', path, at, reply });
    req.resume();
    if (reply === 'hang') return;
    req.on('end', () => {
      const headers = reply.retryAfterSeconds === undefined ? {} : { 'retry-after': String(reply.retryAfterSeconds) };
      res.writeHead(reply.status, headers).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const close = () =>
    new Promise<void>((closed) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => closed());
    });
  onCleanup('close the chaos receiver', close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    of: (id) => arrivals.filter((a) => a.id === id),
    script: (path, replies) => scripts.set(path, [...replies]),
    close,
  };
}
