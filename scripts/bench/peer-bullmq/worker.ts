// The BullMQ peer's worker process: takes each delayed job when it comes due and POSTs {id} to the
// benchmark's sink, 50 jobs at a time. Started by the benchmark with `node --import tsx`.
import { Worker } from 'bullmq';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this process is started by scripts/bench)`);
  return value;
}

const sinkUrl = required('BULLMQ_SINK_URL');
const worker = new Worker<{ id: string }>(
  required('BULLMQ_QUEUE'),
  async (job) => {
    const response = await fetch(sinkUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: job.data.id }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    // Throwing fails this attempt; the job's own retry settings bring it back.
    if (!response.ok) throw new Error(`sink answered HTTP ${response.status}`);
  },
  { connection: { host: '127.0.0.1', port: Number(required('BULLMQ_REDIS_PORT')), maxRetriesPerRequest: null }, concurrency: 50 },
);
worker.on('error', (err) => console.error('bullmq worker error', err));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void worker.close().finally(() => process.exit(0));
  });
}
