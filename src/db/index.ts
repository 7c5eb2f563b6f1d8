import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from '../../drizzle/schema';
import type { Logger } from '../logger';
import { preparingStatements } from './prepared';

export { schema };
/** Both drivers speak the same drizzle dialect; code above this module never knows which one runs. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  driver: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL of a server; unset selects the embedded PGlite engine. */
  url?: string;
  /** PGlite data directory; `memory://` keeps it in memory (tests). */
  pgliteDir: string;
  poolSize: number;
}

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'drizzle', 'migrations');
// Any constant works; it only has to be the same in every Herald process sharing the database.
const MIGRATION_LOCK_ID = 0x4e52_4c44;
const CONNECT_TIMEOUT_S = 2;
const RECONNECT_BACKOFF_S = 0.2;

/**
 * True when `err` says the database cannot be reached right now (refused, reset, timed out, shutting
 * down), rather than that a query was wrong: the caller should answer 503 and be retried.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  // Duck-typed: driver errors may come from another realm (jest's sandbox), where instanceof Error fails.
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|CONNECT_TIMEOUT)$/.test(code)) return true;
    // SQLSTATE class 08 (connection exception), 57P01-57P03 (shutting down, cannot connect now).
    if (/^08...$|^57P0[123]$/.test(code)) return true;
  }
  return false;
}

/** Connects to Postgres (server or PGlite) and applies pending migrations before returning. */
export async function openDatabase(options: DatabaseOptions, log: Logger): Promise<DatabaseHandle> {
  if (options.url) {
    await migrateServer(options.url);
    // During an outage a query fails within about CONNECT_TIMEOUT_S, so the API answers 503 instead of
    // hanging: postgres.js's own reconnect backoff grows to 20 s and holds queued queries that long.
    // Retrying is Temporal's job (activities) and the client's (Retry-After), not the driver's.
    const client = postgres(options.url, {
      max: options.poolSize,
      onnotice: () => undefined,
      connect_timeout: CONNECT_TIMEOUT_S,
      backoff: () => RECONNECT_BACKOFF_S,
    });
    log.info({ driver: 'postgres', host: new URL(options.url).host }, 'database ready');
    return { db: drizzlePostgres(preparingStatements(client), { schema }), driver: 'postgres', close: () => client.end({ timeout: 5 }) };
  }
  if (!options.pgliteDir.startsWith('memory://')) fs.mkdirSync(options.pgliteDir, { recursive: true });
  const client = await PGlite.create(options.pgliteDir);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_DIR });
  log.info({ driver: 'pglite', dir: options.pgliteDir }, 'database ready');
  return { db, driver: 'pglite', close: () => client.close() };
}

/** API and worker processes may start together; an advisory lock lets exactly one of them migrate. */
async function migrateServer(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const db = drizzlePostgres(client);
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    try {
      await migratePostgres(db, { migrationsFolder: MIGRATIONS_DIR });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`);
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
