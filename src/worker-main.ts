// Production: the Temporal worker alone (scale it horizontally; Temporal spreads the work).
import type { Server } from 'node:http';
import express from 'express';
import { metricsRoute } from './api/metrics-route';
import { ConfigError, loadConfig } from './config';
import { createLogger, logFormatFor } from './logger';
import { runUntilSignal, startupFailed } from './process';
import { startStack } from './stack';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'herald-worker', logFormatFor(config.logFormat, config.env));
  if (!config.temporal.address) throw new ConfigError(['TEMPORAL_ADDRESS: required when the worker runs on its own']);
  const stack = await startStack({
    config,
    log,
    temporalAddress: config.temporal.address,
    run: { worker: true },
    workflowBundle: config.temporal.workflowBundlePath ? { codePath: config.temporal.workflowBundlePath } : undefined,
  });
  // The worker's own metrics (send attempts, transitions, lateness) on a port of its own; the API serves the database gauges.
  let metricsServer: Server | undefined;
  if (config.metrics.workerPort > 0) {
    const app = express();
    app.get('/metrics', metricsRoute(stack.metrics));
    metricsServer = app.listen(config.metrics.workerPort, config.api.host);
    await new Promise<void>((resolve, reject) => metricsServer!.once('listening', resolve).once('error', reject));
    log.info({ port: config.metrics.workerPort }, 'worker metrics at /metrics');
  }
  await runUntilSignal(log, stack.workerDone!, async () => {
    metricsServer?.close();
    await stack.stop();
  });
}

main().catch(startupFailed);
