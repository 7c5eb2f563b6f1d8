// Production: the Temporal worker alone (scale it horizontally; Temporal spreads the work).
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { runUntilSignal, startupFailed } from './process';
import { startStack } from './stack';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'herald-worker');
  if (!config.temporal.address) throw new ConfigError(['TEMPORAL_ADDRESS: required when the worker runs on its own']);
  const stack = await startStack({
    config,
    log,
    temporalAddress: config.temporal.address,
    run: { api: false, worker: true },
    workflowBundle: config.temporal.workflowBundlePath ? { codePath: config.temporal.workflowBundlePath } : undefined,
  });
  await runUntilSignal(log, stack.workerDone!, () => stack.stop());
}

main().catch(startupFailed);
