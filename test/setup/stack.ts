import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { ChannelAdapter } from '../../src/channels/types';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { startStack, type Stack } from '../../src/stack';
import { startApiServer } from '../../src/api/server';
import type { Channel } from '../../workflows/definitions';
import { LOOPBACK_DNS, TEST_OUTBOUND_ENV } from './net';
import type { Resolve } from '../../src/net/outbound';

export type DatabaseKind = 'pglite' | 'postgres';
export const DATABASES: DatabaseKind[] = ['pglite', 'postgres'];

export interface TestStack extends Stack {
  config: Config;
  url: string;
}

/** A throw-away database on the real Postgres server named by TEST_DATABASE_URL (set by `npm test`). */
export async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set: run the suite with `npm test`, which starts PostgreSQL');
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(adminUrl, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

const via = (url: string, hostPort: string) => Object.assign(new URL(url), { host: hostPort }).toString();

/**
 * The whole service in-process against the suite's real Temporal dev server: its own task queue,
 * its own database (PGlite in a temp dir, or a scratch database on the real server), API on a free port.
 */
export async function startTestStack(
  options: {
    database?: DatabaseKind;
    env?: Record<string, string>;
    adapters?: Partial<Record<Channel, ChannelAdapter>>;
    resolve?: Resolve;
    log?: Logger;
    /** Postgres only: reach the scratch database through this host:port (a proxy a test can cut). */
    databaseVia?: string;
  } = {},
): Promise<TestStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-data-'));
  const scratch = options.database === 'postgres' ? await createScratchDatabase() : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    PORT: '0',
    DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
    ...(scratch ? { DATABASE_URL: options.databaseVia ? via(scratch.url, options.databaseVia) : scratch.url } : {}),
    ...TEST_OUTBOUND_ENV,
    ...options.env,
  });
  const stack = await startStack({
    config,
    log: options.log ?? createLogger(config.logLevel, 'test'),
    temporalAddress: config.temporal.address!,
    run: { api: startApiServer, worker: true },
    workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
    adapters: options.adapters,
    resolve: options.resolve ?? LOOPBACK_DNS,
  });
  return {
    ...stack,
    config,
    url: stack.api!.url,
    async stop() {
      await stack.stop();
      await scratch?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
