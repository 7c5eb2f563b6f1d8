// A real Redis for the BullMQ peer: Debian's redis-server on a free loopback port, durable the way a
// production queue would be (AOF, fsync every second; no RDB snapshots), in the run's temp dir.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { assertChildrenAlive, spawnChild } from '../children';
import { installDebianPackage } from '../debian';
import { freePort } from '../ports';
import { waitUntil } from '../timing';

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian's redis-server when it is missing. */
export function ensureRedisServer(): void {
  if (!installDebianPackage('redis-server', hasRedisServer, 'the BullMQ peer')) {
    throw new Error(
      '--peer bullmq needs redis-server and installing it failed: run `apt-get update && apt-get install -y redis-server` as root, then try again',
    );
  }
}

export async function startRedis(dir: string, logDir: string, repoRoot: string): Promise<{ port: number; stop(): Promise<void> }> {
  ensureRedisServer();
  const port = await freePort();
  const dataDir = path.join(dir, 'redis');
  fs.mkdirSync(dataDir, { recursive: true });
  const redis = spawnChild(
    'redis',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no'],
    { cwd: repoRoot, env: process.env, logDir },
  );
  await waitUntil('redis-server to answer PING', () => (assertChildrenAlive(), ping(port)), { timeoutMs: 30_000 });
  return { port, stop: () => redis.stop() };
}

function ping(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG') ? true : undefined);
    });
    socket.once('error', () => resolve(undefined));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(undefined);
    });
  });
}
