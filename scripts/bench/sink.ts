// The receiver every system delivers to: an HTTP server in the driver, on 127.0.0.1 only. It keeps
// the first arrival time of each id and how many times the id came, which is all the figures need.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup';

export interface Sink {
  /** Base URL; systems append a path naming themselves (for the logs only). */
  url: string;
  /** Epoch ms of the first arrival of `id`, or undefined. */
  firstAt(id: string): number | undefined;
  /** How many times `id` arrived. */
  count(id: string): number;
  /** Arrivals without a usable id (never expected). */
  unidentified(): number;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const first = new Map<string, number>();
  const counts = new Map<string, number>();
  let unidentified = 0;
  const record = (id: string | undefined, at: number) => {
    if (!id) {
      unidentified++;
      return;
    }
    if (!first.has(id)) first.set(id, at);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  };

  const server = http.createServer((req, res) => {
    // Stamp on arrival, before reading the body: reading is the sink's cost, not the system's.
    const at = Date.now();
    const headerId = req.headers['webhook-id'];
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // Herald names the notification in `webhook-id` (Standard Webhooks); T1 and BullMQ post {id}.
      let id = typeof headerId === 'string' ? headerId : undefined;
      if (!id) {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown };
          if (typeof body.id === 'string') id = body.id;
        } catch {
          // counted as unidentified below
        }
      }
      record(id, at);
      res.writeHead(204).end();
    });
  });
  // Many systems keep connections open between bursts; keep them longer than their idle pools do.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  onCleanup('close the sink', close);
  return {
    url: `http://127.0.0.1:${port}`,
    firstAt: (id) => first.get(id),
    count: (id) => counts.get(id) ?? 0,
    unidentified: () => unidentified,
    close,
  };
}
