// Measures the embedded stack on this machine and prints figures (no pass/fail: speed targets live here,
// not in tests). Usage: npx tsx scripts/bench.ts [count=200] [concurrency=20]
// It starts its own in-memory dev server, PGlite in a temp dir (or DATABASE_URL), a loopback webhook receiver.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startStack } from '../src/stack';
import { resolveTemporalBinary } from '../src/temporal/binary';
import { startDevServer } from '../src/temporal/dev-server';

const count = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 20);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main() {
  const log = createLogger('error', 'bench');
  const received = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    received.set(String(req.headers['webhook-id']), Date.now());
    req.resume().on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  const server = await startDevServer({ binary: resolveTemporalBinary(), port: 17233, uiPort: null, namespace: 'default', log });
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, PORT: '0', TEMPORAL_ADDRESS: server.address, LOG_LEVEL: 'error', THROTTLE_BURST: '0' });
  const stack = await startStack({ config, log, temporalAddress: server.address, run: { api: true, worker: true } });
  const url = stack.api!.url;
  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  for (let u = 0; u < 20; u++) await post(`/v1/users/bench-${u}/webhooks`, { url: hook });
  const dueAt = Date.now() + 5000 + count * 15;
  const createMs: number[] = [];
  const ids: string[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i += concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count - i) }, async (_, k) => {
        const t0 = performance.now();
        const res = await post(
          '/v1/notifications',
          { userId: `bench-${(i + k) % 20}`, channels: ['webhook'], scheduledAt: new Date(dueAt).toISOString(), content: { body: 'bench' } },
          { 'Idempotency-Key': `bench-${started}-${i + k}` },
        );
        createMs.push(performance.now() - t0);
        ids.push(((await res.json()) as { id: string }).id);
      }),
    );
  }
  const createSeconds = (Date.now() - started) / 1000;
  while (received.size < count && Date.now() < dueAt + 300_000) await new Promise((r) => setTimeout(r, 100));
  const lags = ids.map((id) => (received.get(id) ?? NaN) - dueAt).sort((a, b) => a - b);
  const lastAt = Math.max(...ids.map((id) => received.get(id) ?? 0));

  createMs.sort((a, b) => a - b);
  console.log(`database ${stack.database.driver}, ${count} notifications, ${concurrency} concurrent creates, ${os.cpus().length} cores`);
  console.log(`create: ${(count / createSeconds).toFixed(1)}/s; latency p50 ${pct(createMs, 50).toFixed(0)} ms, p95 ${pct(createMs, 95).toFixed(0)} ms, max ${createMs.at(-1)!.toFixed(0)} ms`);
  console.log(`delivered ${received.size}/${count}; due→receiver lag p50 ${pct(lags, 50)} ms, p95 ${pct(lags, 95)} ms, max ${lags.at(-1)} ms`);
  console.log(`all ${count} due at once were delivered within ${((lastAt - dueAt) / 1000).toFixed(1)} s: ${(count / ((lastAt - dueAt) / 1000)).toFixed(1)} deliveries/s`);

  await stack.stop();
  await server.stop();
  receiver.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
