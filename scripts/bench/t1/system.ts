// The benchmark's side of T1: starts its worker process and creates its workflows with
// client.workflow.start, the raw cost Herald's create builds on.
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { spawnNodeEntry, assertChildrenAlive, type Child } from '../children';
import type { BenchSystem } from '../system';
import { countOpenRuns, terminateWorkflows, waitForPollers } from '../temporal';
import type { t1Notification } from './workflows';

export const T1_WORKFLOWS = path.join(__dirname, 'workflows.ts');

export interface T1Options {
  client: Client;
  temporalAddress: string;
  taskQueue: string;
  sinkUrl: string;
  workflowBundle: string;
  repoRoot: string;
  logDir: string;
  /** Distinguishes this worker's log from another section's. */
  label: string;
}

export interface T1System extends BenchSystem {
  stop(): Promise<void>;
}

export async function startT1(o: T1Options): Promise<T1System> {
  const worker: Child = spawnNodeEntry(`t1-worker-${o.label}`, path.relative(o.repoRoot, path.join(__dirname, 'worker.ts')), {
    cwd: o.repoRoot,
    logDir: o.logDir,
    env: {
      ...process.env,
      T1_TEMPORAL_ADDRESS: o.temporalAddress,
      T1_TASK_QUEUE: o.taskQueue,
      T1_SINK_URL: `${o.sinkUrl}/t1`,
      T1_WORKFLOW_BUNDLE: o.workflowBundle,
    },
  });
  await waitForPollers(o.client, o.taskQueue, 60_000, assertChildrenAlive);

  return {
    name: 'T1',
    async create(key, dueAt) {
      const workflowId = `t1-${key}`;
      try {
        await o.client.workflow.start<typeof t1Notification>('t1Notification', {
          workflowId,
          taskQueue: o.taskQueue,
          args: [dueAt],
          // A retried create must never start a second run of a workflow that already finished.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        // A retried create whose first try got through: the workflow exists, which is what we wanted.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return workflowId;
    },
    workflowId: (id) => id,
    openRuns: () => countOpenRuns(o.client, o.taskQueue),
    async discard(ids) {
      await terminateWorkflows(o.client, ids);
    },
    processes: () => [{ role: 'worker', pid: worker.pid }],
    stop: () => worker.stop(),
  };
}
