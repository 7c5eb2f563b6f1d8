import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleHeraldWorkflows } from '../../src/temporal/workflow-bundle';
import { createLogger } from '../../src/logger';
import { resolveTemporalBinary } from '../../src/temporal/binary';
import { startDevServer } from '../../src/temporal/dev-server';
import { freePort } from './net';

/**
 * Starts one real Temporal dev server (in memory, headless) and bundles the workflow code once for
 * the whole run; test files find both through environment variables.
 */
export default async function globalSetup(): Promise<void> {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'error', 'test-setup');
  const server = await startDevServer({
    binary: resolveTemporalBinary(process.env.TEMPORAL_CLI_PATH),
    port: await freePort(),
    uiPort: null,
    namespace: 'default',
    log,
  });
  (globalThis as { __temporalDevServer?: unknown }).__temporalDevServer = server;
  process.env.TEST_TEMPORAL_ADDRESS = server.address;

  const code = await bundleHeraldWorkflows({
    log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error,
  });
  const bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-test-')), 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
}
