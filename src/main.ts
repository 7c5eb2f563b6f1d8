// The embedded default: `npm start` runs everything Herald needs on one machine.
import { vapidKeys } from './channels';
import { loadConfig } from './config';
import { createLogger, logFormatFor } from './logger';
import { startStack } from './stack';
import { startApiServer } from './api/server';
import { resolveTemporalBinary } from './temporal/binary';
import { startDevServer, type DevServer } from './temporal/dev-server';
import { runUntilSignal, startupFailed } from './process';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'herald', logFormatFor(config.logFormat, config.env));

  let devServer: DevServer | undefined;
  if (!config.temporal.address) {
    devServer = await startDevServer({
      binary: resolveTemporalBinary(config.temporal.devServer.cliPath),
      port: config.temporal.devServer.port,
      uiPort: config.temporal.devServer.uiPort,
      dbFile: config.temporal.devServer.dbFile,
      namespace: config.temporal.namespace,
      log,
      // With encrypted payloads, the UI decodes them through Herald's own codec endpoint.
      extraArgs: config.temporal.encryptionKeys
        ? ['--ui-codec-endpoint', `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}/v1/codec`]
        : [],
    });
  }
  try {
    const stack = await startStack({
      config,
      log,
      temporalAddress: config.temporal.address ?? devServer!.address,
      run: { api: startApiServer, worker: true },
    });
    log.info(
      {
        api: stack.api!.url,
        temporalUi: devServer?.uiUrl ?? '(external cluster)',
        database: stack.database.driver,
      },
      'herald is up',
    );
    const vapid = vapidKeys(config);
    console.log(
      [
        '',
        `  Herald API     ${stack.api!.url}`,
        `  Temporal UI    ${devServer?.uiUrl ?? `cluster at ${config.temporal.address}`}`,
        ...(vapid ? [`  VAPID key      ${vapid.publicKey}`] : []),
        '',
      ].join('\n'),
    );
    await runUntilSignal(log, stack.workerDone!, async () => {
      await stack.stop();
      await devServer?.stop();
    });
  } catch (err) {
    await devServer?.stop();
    throw err;
  }
}

main().catch(startupFailed);
