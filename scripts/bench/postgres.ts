// A scratch database for Herald on PostgreSQL, on the server scripts/postgres.sh makes sure of
// (the same one the tests use), dropped at the end of the run.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { onCleanup } from './cleanup';

export async function createScratchDatabase(repoRoot: string): Promise<{ url: string; name: string }> {
  // postgres.sh installs and starts the server when needed, and prints an admin URL that may create databases.
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('bash', [path.join(repoRoot, 'scripts', 'postgres.sh')], { cwd: repoRoot, timeout: 600_000 }));
  } catch (err) {
    throw new Error(`scripts/postgres.sh failed: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
  const adminUrl = stdout.trim().split('\n').pop()!;
  const name = `herald_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = () => postgres(adminUrl, { max: 1, onnotice: () => undefined, connect_timeout: 10 });

  const sql = admin();
  try {
    await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end();
  }
  onCleanup(`drop database ${name}`, async () => {
    const drop = admin();
    try {
      // WITH (FORCE): a Herald process killed mid-run may still hold connections.
      await drop.unsafe(`drop database if exists ${name} with (force)`);
    } finally {
      await drop.end();
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}
