import type { Resolve } from './net/outbound';
import { dataConverterFor } from './temporal/codec';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { buildAdapters } from './channels';
import type { ChannelAdapter } from './channels/types';
import type { Config } from './config';
import type { Database } from './db';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { DeliveryReporter } from './reports';
import type { TemporalGateway } from './temporal/gateway';
import { createRenderer } from './notifications/templates';
import { WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH } from './temporal/workflow-bundle';
import type { Channel } from '../workflows/definitions';

export interface WorkerDeps {
  config: Config;
  db: Database;
  log: Logger;
  connection: NativeConnection;
  /** The client side of Temporal: bulk dead-letter operations start redriven runs with it. */
  temporal: TemporalGateway;
  reporter: DeliveryReporter;
  metrics: Metrics;
  /** Tests pass a pre-built bundle; otherwise the workflows are bundled at start-up. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Replace single channel adapters (tests fake the FCM transport this way). */
  adapters?: Partial<Record<Channel, ChannelAdapter>>;
  /** DNS for the outbound address checks (tests play DNS tricks with it); the system's by default. */
  resolve?: Resolve;
}

/** What the activities are built from: the running process's parts and its configuration (tests build single activities the same way). */
export function activityDeps({
  config,
  db,
  log,
  temporal,
  reporter,
  metrics,
  adapters,
  resolve,
}: Pick<WorkerDeps, 'config' | 'db' | 'log' | 'temporal' | 'reporter' | 'metrics' | 'adapters' | 'resolve'>): ActivityDeps {
  return {
    db,
    log,
    temporal,
    reporter,
    metrics,
    adapters: { ...buildAdapters(config, log, resolve), ...adapters },
    retry: config.channels.retry,
    policy: config.policy,
    renderer: createRenderer(db, config.defaultLocale),
  };
}

export async function createWorker({ config, db, log, connection, temporal, reporter, metrics, workflowBundle, adapters, resolve }: WorkerDeps): Promise<Worker> {
  // Read by our patch of the SDK (patches/) in the workflow threads, which copy this environment
  // when Worker.create starts them.
  process.env.HERALD_WORKFLOW_STACK_TRACES = config.temporal.worker.workflowStackTraces ? 'on' : 'off';
  process.env.HERALD_WORKFLOW_WATCHDOG = config.temporal.worker.workflowWatchdog ? 'on' : 'off';
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter: dataConverterFor(config.temporal.encryptionKeys),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS }),
    activities: createActivities(activityDeps({ config, db, log, temporal, reporter, metrics, adapters, resolve })),
    shutdownGraceTime: config.temporal.shutdownGraceMs,
    maxCachedWorkflows: config.temporal.worker.maxCachedWorkflows,
    stickyQueueScheduleToStartTimeout: config.temporal.worker.stickyQueueTimeoutMs,
    maxConcurrentWorkflowTaskExecutions: config.temporal.worker.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: config.temporal.worker.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: config.temporal.worker.maxConcurrentLocalActivities,
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: config.temporal.worker.workflowPollers },
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: config.temporal.worker.activityPollers },
  });
}
