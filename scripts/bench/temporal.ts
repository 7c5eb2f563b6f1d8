// The one Temporal server every system of a run shares: our own dev server (the flags `npm start`
// uses, SQLite with WAL in the run's temp dir, headless) or an existing one from --temporal-address.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { Logger } from '../../src/logger';
import { resolveTemporalBinary } from '../../src/temporal/binary';
import { startDevServer } from '../../src/temporal/dev-server';
import { bundleHeraldWorkflows } from '../../src/temporal/workflow-bundle';
import { killOnExit, onCleanup } from './cleanup';
import { freePort } from './ports';
import { mapLimit, waitUntil, withTimeout } from './timing';

export const NAMESPACE = 'default';

export interface TemporalServer {
  address: string;
  /** For the report: where the server came from. */
  description: string;
  /** Our own dev server's pid (its CPU counts when waiting for quiet); undefined for an existing server. */
  pid?: number;
  client: Client;
}

export async function openTemporal({ address, dir, log }: { address?: string; dir: string; log: Logger }): Promise<TemporalServer> {
  let description = `existing server at ${address}`;
  let pid: number | undefined;
  if (!address) {
    const server = await startDevServer({
      binary: resolveTemporalBinary(),
      port: await freePort(),
      uiPort: null,
      dbFile: path.join(dir, 'temporal.sqlite'),
      namespace: NAMESPACE,
      log,
    });
    const forget = killOnExit(server.process.pid!);
    onCleanup('stop the temporal dev server', async () => {
      await server.stop();
      forget();
    });
    address = server.address;
    pid = server.process.pid;
    description = `own dev server at ${address} (SQLite + WAL, as npm start)`;
  }
  const connection = await Connection.connect({ address, connectTimeout: 10_000 });
  onCleanup('close the temporal client', () => connection.close());
  return { address, description, pid, client: new Client({ connection, namespace: NAMESPACE }) };
}

/** Bundles workflow code once, so workers start without running webpack: T1's with the SDK's defaults, Herald's as its worker does. */
export async function buildWorkflowBundle(workflows: string | 'herald', outFile: string): Promise<string> {
  const logger = new DefaultLogger('WARN');
  const code = workflows === 'herald' ? await bundleHeraldWorkflows(logger) : (await bundleWorkflowCode({ workflowsPath: workflows, logger })).code;
  fs.writeFileSync(outFile, code);
  return outFile;
}

const { TaskQueueType } = temporal.api.enums.v1;

/** Resolves once workers poll both the workflow and the activity side of `taskQueue`. */
export async function waitForPollers(client: Client, taskQueue: string, timeoutMs: number, beforeEachTry?: () => void): Promise<void> {
  const polled = async (taskQueueType: number) => {
    const { pollers } = await client.workflowService.describeTaskQueue({ namespace: NAMESPACE, taskQueue: { name: taskQueue }, taskQueueType });
    return (pollers?.length ?? 0) > 0;
  };
  await waitUntil(
    `workers polling task queue ${taskQueue}`,
    async () => {
      beforeEachTry?.();
      const [workflows, activities] = await Promise.all([
        polled(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        polled(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
      ]);
      return workflows && activities ? true : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** Runs on `taskQueue` not yet closed, as Temporal's visibility store counts them. */
export async function countOpenRuns(client: Client, taskQueue: string): Promise<number> {
  const { count } = await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`);
  return count;
}

/** Terminates workflows that would otherwise sleep past the run (open-loop items); bounded in time. */
export async function terminateWorkflows(client: Client, workflowIds: string[], timeoutMs = 120_000): Promise<number> {
  let terminated = 0;
  await withTimeout(
    `terminating ${workflowIds.length} workflows`,
    mapLimit(workflowIds, 20, async (id) => {
      try {
        await client.workflow.getHandle(id).terminate('benchmark cleanup');
        terminated++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }),
    timeoutMs,
  );
  return terminated;
}
