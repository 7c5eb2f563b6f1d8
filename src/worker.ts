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
import { channelTaskQueue, CHANNELS, type Channel } from '../workflows/definitions';
import { SEND_ACTIVITY } from '../workflows/fan-out';

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
    adapters: { ...buildAdapters(config, log, db, resolve), ...adapters },
    retry: config.channels.retry,
    policy: config.policy,
    renderer: createRenderer(db, config.defaultLocale),
    sendLimits: config.channels.sending,
    // A provider that hangs may hold at most a quarter of the workflow-task slots with first attempts.
    inlineAttemptsPerChannel: Math.max(1, Math.floor(config.temporal.worker.maxConcurrentWorkflowTasks / 4)),
  };
}

/**
 * The worker's parts, all on one connection: the main worker runs the workflows, their local
 * activities and the activities that are not sends; each channel has a worker of its own on the
 * channel's task queue, with its own slots and optional rate cap, that runs that channel's sends
 * (and, for runs started before V7, the due-time activity with its first attempt). A provider that
 * hangs fills its own channel's slots, and the other channels' sends go on. V7 makes a first
 * attempt inside the workflow task of its wake-up, at most `inlineAttemptsPerChannel` of one channel
 * at once; the rest go to the channel's queue.
 */
export async function createWorkers({ config, db, log, connection, temporal, reporter, metrics, workflowBundle, adapters, resolve }: WorkerDeps): Promise<Worker[]> {
  // Read by our patch of the SDK (patches/): the first two in the workflow threads, which copy this
  // environment when Worker.create starts them, the heap bound when it starts them.
  process.env.HERALD_WORKFLOW_STACK_TRACES = config.temporal.worker.workflowStackTraces ? 'on' : 'off';
  process.env.HERALD_WORKFLOW_WATCHDOG = config.temporal.worker.workflowWatchdog ? 'on' : 'off';
  process.env.HERALD_WORKFLOW_HEAP_MB = String(config.temporal.worker.workflowHeapMb ?? '');
  const activities = createActivities(activityDeps({ config, db, log, temporal, reporter, metrics, adapters, resolve }));
  const common = {
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFor(config.temporal.encryptionKeys),
    shutdownGraceTime: config.temporal.shutdownGraceMs,
  };
  const { worker: settings } = config.temporal;
  const main = Worker.create({
    ...common,
    taskQueue: config.temporal.taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS }),
    activities,
    maxCachedWorkflows: settings.maxCachedWorkflows,
    stickyQueueScheduleToStartTimeout: settings.stickyQueueTimeoutMs,
    maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: settings.maxConcurrentLocalActivities,
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: settings.workflowPollers },
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: settings.activityPollers },
  });
  // Every channel is polled, configured or not: a run may schedule a send on any channel's queue, and
  // an unconfigured channel's send answers "skipped" at once instead of waiting for a worker forever.
  const senders = CHANNELS.map((channel) => {
    const limits = config.channels.sending[channel];
    return Worker.create({
      ...common,
      taskQueue: channelTaskQueue(config.temporal.taskQueue, channel),
      activities: { deliverAtDueTime: activities.deliverAtDueTime, [SEND_ACTIVITY[channel]]: activities[SEND_ACTIVITY[channel]] },
      maxConcurrentActivityTaskExecutions: limits.maxConcurrent,
      ...(limits.maxPerSecond ? { maxTaskQueueActivitiesPerSecond: limits.maxPerSecond } : {}),
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: Math.min(settings.activityPollers, limits.maxConcurrent) },
    });
  });
  return Promise.all([main, ...senders]);
}
