import type { Resolve } from './net/outbound';
import { dataConverterFor } from './temporal/codec';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { ApiServer, startApiServer } from './api/server';
import { configuredChannels, vapidKeys } from './channels';
import { unsubscribeLinksFor } from './unsubscribe';
import { createRenderer } from './notifications/templates';
import { createDeliveryReporter, type DeliveryReporter } from './reports';
import type { ChannelAdapter } from './channels/types';
import type { Config } from './config';
import { openDatabase, type DatabaseHandle } from './db';
import type { Logger } from './logger';
import { TemporalGateway } from './temporal/gateway';
import { installTemporalRuntime } from './temporal/logging';
import { countingTransitions, createMetrics, type Metrics } from './metrics';
import { ensureSearchAttributes } from './temporal/search-attributes';
import { createWorkers } from './worker';
import type { Channel } from '../workflows/definitions';

export interface StackOptions {
  config: Config;
  log: Logger;
  /** host:port of the Temporal frontend to use. */
  temporalAddress: string;
  /**
   * What this process runs. `api` is the API's start function, imported by the entry point that
   * serves it, so that a worker on its own never loads the API's modules (their memory is per process).
   */
  run: { api?: typeof startApiServer; worker: boolean };
  workflowBundle?: WorkerOptions['workflowBundle'];
  adapters?: Partial<Record<Channel, ChannelAdapter>>;
  /** DNS for the outbound address checks of API and worker; the system's unless a test plays DNS tricks. */
  resolve?: Resolve;
}

export interface Stack {
  database: DatabaseHandle;
  reporter: DeliveryReporter;
  /** This process's Herald metrics (the API's /metrics serves them). */
  metrics: Metrics;
  temporal: TemporalGateway;
  api?: ApiServer;
  /** Settles when the worker stops; rejects if it dies. */
  workerDone?: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wires database, Temporal, worker and API together. The embedded default runs all of it in one
 * process; production runs the API and the worker as separate processes of the same code.
 */
export async function startStack({ config, log, temporalAddress, run, workflowBundle, adapters, resolve }: StackOptions): Promise<Stack> {
  installTemporalRuntime(log, { metricsAddress: config.metrics.temporalSdkAddress });
  const metrics = createMetrics();
  const database = await openDatabase(
    { url: config.database.url, pgliteDir: config.database.pgliteDir, poolSize: config.database.poolSize },
    log,
  );
  const connection = await Connection.connect({ address: temporalAddress });
  const dataConverter = dataConverterFor(config.temporal.encryptionKeys);
  await ensureSearchAttributes(connection, config.temporal.namespace, log);
  const temporal = new TemporalGateway(
    new Client({ connection, namespace: config.temporal.namespace, dataConverter }),
    config.temporal.taskQueue,
    config.temporal.uiUrl,
    { encrypted: Boolean(config.temporal.encryptionKeys), startDelayFromMs: config.temporal.startDelayFromMs },
  );

  const reporter = countingTransitions(createDeliveryReporter(config.reports, database.db, log, metrics), metrics);

  let workerConnection: NativeConnection | undefined;
  let workers: Awaited<ReturnType<typeof createWorkers>> = [];
  let workerDone: Promise<void> | undefined;
  if (run.worker) {
    workerConnection = await NativeConnection.connect({ address: temporalAddress });
    workers = await createWorkers({ config, db: database.db, log, connection: workerConnection, temporal, reporter, metrics, workflowBundle, adapters, resolve });
    workerDone = runTogether(workers);
    log.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
  }
  const api = run.api
    ? await run.api(
        {
          db: database.db,
          metrics,
          reporter,
          temporal,
          log,
          apiKeys: config.api.apiKeys,
          rateLimitPerMinute: config.api.rateLimitPerMinute,
          faults: config.api.faults,
          throttle: config.policy.throttle,
          channels: [...new Set([...configuredChannels(config), ...(Object.keys(adapters ?? {}) as Channel[])])],
          renderer: createRenderer(database.db, config.defaultLocale),
          vapidPublicKey: vapidKeys(config)?.publicKey,
          unsubscribeLinks: config.channels.email ? unsubscribeLinksFor(config) : undefined,
          webPushAllowedHosts: config.channels.webpush.allowedHosts,
          phoneDefaultCountry: config.channels.phoneDefaultCountry,
          smsLongMessages: config.channels.solapi?.longMessages,
          outbound: config.outbound,
          codec: dataConverter?.payloadCodecs[0],
          codecCorsOrigins: config.temporal.codecCorsOrigins,
          resolve,
        },
        config.api.host,
        config.api.port,
      )
    : undefined;

  return {
    database,
    reporter,
    metrics,
    temporal,
    api,
    workerDone,
    async stop() {
      // Order matters: stop taking requests, let in-flight activities finish, then close what they use.
      await api?.stop();
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone?.catch((err) => log.error({ err }, 'worker stopped with an error'));
      await workerConnection?.close();
      await connection.close();
      await database.close();
    },
  };
}

/**
 * Runs the workers until all have stopped; one that fails stops the others, and the failure is
 * what the returned promise rejects with (the process then exits, as with a single worker).
 */
async function runTogether(workers: Worker[]): Promise<void> {
  const runs = workers.map((w) => w.run());
  try {
    await Promise.all(runs);
  } catch (err) {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(runs);
    throw err;
  }
}
