// Herald as a user runs it: `src/main.ts` in a child process (API and worker together), so what the
// test sees includes process-wide settings that jest's sandbox would hide (e.g. the environment
// that the SDK's workflow threads copy).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, TEST_OUTBOUND_ENV } from './net';

const ROOT = path.resolve(__dirname, '..', '..');

/** `npm start` as a user runs it: the embedded dev server, PGlite, worker and API in one process. */
export async function startService(env: Record<string, string>): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...TEST_OUTBOUND_ENV, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Herald API')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`service exited with ${code} before it was up:\n${output}`)));
  });
  return { child, exited };
}


/**
 * Herald on its embedded PGlite, against the test suite's Temporal server, on a task queue of its
 * own: for tests that need the real process (settings the SDK's threads read from the environment).
 */
export async function startIsolatedService(extraEnv: Record<string, string>): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-service-'));
  const port = await freePort();
  const service = await startService({
    DATA_DIR: dataDir,
    PORT: String(port),
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
    WORKFLOW_BUNDLE_PATH: process.env.TEST_WORKFLOW_BUNDLE!,
    ...extraEnv,
  });
  return {
    port,
    pid: service.child.pid!,
    async stop() {
      service.child.kill('SIGTERM');
      await service.exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
