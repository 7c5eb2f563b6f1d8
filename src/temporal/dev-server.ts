import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from '../logger';
import { searchAttributeFlags } from './search-attributes';

export interface DevServerOptions {
  binary: string;
  port: number;
  /** Web UI port; `null` runs headless (tests). */
  uiPort: number | null;
  /** SQLite file that keeps workflows across restarts; unset keeps everything in memory. */
  dbFile?: string;
  namespace: string;
  log: Logger;
  readyTimeoutMs?: number;
  /** More flags, e.g. `--dynamic-config-value` for tests. */
  extraArgs?: string[];
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` and resolves once its frontend answers. We spawn it ourselves
 * rather than through TestWorkflowEnvironment.createLocal, whose hard-coded 5 s start-up limit kills
 * the server on a loaded 2-core machine, and because the embedded default needs a persistent file.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { binary, port, uiPort, dbFile, namespace, log } = options;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (dbFile) {
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    // WAL keeps SQLite's single writer from becoming the bottleneck; NORMAL sync is still crash-safe in WAL.
    args.push('--db-filename', dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL');
  }
  args.push(...searchAttributeFlags(), '--log-level', 'warn', ...(options.extraArgs ?? []));

  const pidFile = dbFile ? `${dbFile}.pid` : undefined;
  if (pidFile) await reapOrphan(pidFile, dbFile!, log);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (pidFile && child.pid) fs.writeFileSync(pidFile, String(child.pid));
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(address, exited, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`temporal dev server did not start on ${address}: ${(err as Error).message}\n${output.trim()}`);
  }
  log.info({ address, dbFile: dbFile ?? 'memory' }, 'temporal dev server started');

  return {
    address,
    uiUrl: uiPort === null ? undefined : `http://127.0.0.1:${uiPort}`,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (pidFile) fs.rmSync(pidFile, { force: true });
    },
  };
}

/**
 * A dev server left running by an embedded default that was killed (kill -9, OOM) still holds the
 * port and the SQLite file; a new start would attach to it or fail. Its pid is in `pidFile`: if that
 * process is still a dev server on this very file, it is stopped first. Identity is read from
 * /proc, so on systems without it nothing is killed.
 */
async function reapOrphan(pidFile: string, dbFile: string, log: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // gone, or not knowable here
  }
  const args = cmdline.split('\0');
  if (!Number.isInteger(pid) || pid <= 1 || !args.includes('start-dev') || !args.includes(dbFile)) return;
  log.warn({ pid, dbFile }, 'stopping a temporal dev server left running by an earlier run');
  const alive = () => {
    try {
      return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
    } catch {
      return false;
    }
  };
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  for (let waited = 0; alive() && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (alive()) signal('SIGKILL');
}

async function waitUntilServing(address: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let earlyExit: number | null | undefined;
  void exited.then((code) => (earlyExit = code));
  for (;;) {
    if (earlyExit !== undefined) throw new Error(`process exited with code ${earlyExit}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
