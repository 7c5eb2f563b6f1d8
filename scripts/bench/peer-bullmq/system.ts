// BullMQ as a peer: the same bursts as delayed jobs on a real Redis, delivered by a worker process.
import path from 'node:path';
import { Queue } from 'bullmq';
import { assertChildrenAlive, spawnNodeEntry } from '../children';
import { onCleanup } from '../cleanup';
import type { BenchSystem } from '../system';
import { waitUntil } from '../timing';
import { startRedis } from './redis';

export interface BullmqOptions {
  sinkUrl: string;
  runDir: string;
  logDir: string;
  repoRoot: string;
}

export async function startBullmq(o: BullmqOptions): Promise<BenchSystem> {
  const redis = await startRedis(o.runDir, o.logDir, o.repoRoot);
  onCleanup('stop redis', () => redis.stop());
  const queueName = 'herald-bench';
  const connection = { host: '127.0.0.1', port: redis.port };
  const queue = new Queue<{ id: string }>(queueName, { connection });
  onCleanup('close the BullMQ queue', () => queue.close());

  const worker = spawnNodeEntry('bullmq-worker', path.relative(o.repoRoot, path.join(__dirname, 'worker.ts')), {
    cwd: o.repoRoot,
    logDir: o.logDir,
    env: { ...process.env, BULLMQ_REDIS_PORT: String(redis.port), BULLMQ_QUEUE: queueName, BULLMQ_SINK_URL: `${o.sinkUrl}/bullmq` },
  });
  // A worker registers itself as a named Redis client once it is connected.
  await waitUntil('the BullMQ worker to connect', async () => (assertChildrenAlive(), (await queue.getWorkersCount()) > 0 ? true : undefined), {
    timeoutMs: 60_000,
  });

  return {
    name: 'BullMQ',
    async create(key, dueAt) {
      const jobId = `bq-${key}`;
      // Same job id on a retry: BullMQ keeps the first job and ignores the repeat.
      await queue.add('deliver', { id: jobId }, {
        jobId,
        delay: Math.max(0, dueAt - Date.now()),
        attempts: 10,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      });
      return jobId;
    },
    processes: () => [{ role: 'worker', pid: worker.pid }],
  };
}
