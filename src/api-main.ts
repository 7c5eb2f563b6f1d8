// Production: the HTTP API alone (scale it horizontally; workers run separately).
import { ConfigError, loadConfig } from './config';
import { createLogger, logFormatFor } from './logger';
import { runUntilSignal, startupFailed } from './process';
import { startStack } from './stack';
import { startApiServer } from './api/server';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'herald-api', logFormatFor(config.logFormat, config.env));
  if (!config.temporal.address) throw new ConfigError(['TEMPORAL_ADDRESS: required when the API runs on its own']);
  if (config.env === 'production' && config.api.apiKeys.length === 0) {
    throw new ConfigError(['API_KEYS: at least one API key is required when NODE_ENV=production']);
  }
  const stack = await startStack({ config, log, temporalAddress: config.temporal.address, run: { api: startApiServer, worker: false } });
  log.info({ url: stack.api!.url }, 'API listening');
  await runUntilSignal(log, new Promise<void>(() => undefined), () => stack.stop());
}

main().catch(startupFailed);
