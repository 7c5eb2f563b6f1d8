import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createWebhookAdapter } from './channels/webhook';
import type { ChannelAdapter } from './channels/types';
import type { Config } from './config';
import type { Database } from './db';
import type { Logger } from './logger';
import type { Channel } from '../workflows/definitions';

/** The channel adapters this configuration can run; a channel without credentials is simply absent. */
export function buildAdapters(config: Config): Partial<Record<Channel, ChannelAdapter>> {
  return {
    webhook: createWebhookAdapter(config.channels.webhook),
  };
}

export interface WorkerDeps {
  config: Config;
  db: Database;
  log: Logger;
  connection: NativeConnection;
  /** Tests pass a pre-built bundle; otherwise the workflows are bundled at start-up. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  adapters?: Partial<Record<Channel, ChannelAdapter>>;
}

export async function createWorker({ config, db, log, connection, workflowBundle, adapters }: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({
      db,
      log,
      adapters: adapters ?? buildAdapters(config),
      retry: config.channels.retry,
      policy: config.policy,
    }),
    shutdownGraceTime: config.temporal.shutdownGraceMs,
  });
}
