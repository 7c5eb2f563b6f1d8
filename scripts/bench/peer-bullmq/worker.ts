// The BullMQ peer's worker process: takes each delayed job when it comes due and POSTs {id} to the
// benchmark's sink, 50 jobs at a time. Started by the benchmark with `node --import tsx`.
import { Worker } from 'bullmq';
import { requiredEnv as required } from '../child-env';
import { postToSink } from '../sink-client';

const sinkUrl = required('BULLMQ_SINK_URL');
const worker = new Worker<{ id: string }>(
  required('BULLMQ_QUEUE'),
  // Throwing fails this attempt; the job's own retry settings bring it back.
  (job) => postToSink(sinkUrl, job.data.id),
  { connection: { host: '127.0.0.1', port: Number(required('BULLMQ_REDIS_PORT')), maxRetriesPerRequest: null }, concurrency: 50 },
);
worker.on('error', (err) => console.error('bullmq worker error', err));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void worker.close().finally(() => process.exit(0));
  });
}
