// One place that knows what the benchmark started, so a normal end, an error and Ctrl-C all leave
// nothing behind: no temporal server, worker, API, redis or scratch database outliving the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WaitAborted } from './timing';

interface Cleanup {
  name: string;
  run: () => Promise<void>;
}

const cleanups: Cleanup[] = [];
/** Last resort for `process.on('exit')`, where nothing async can run: pids to SIGKILL (negative = a process group). */
const lastResortKills = new Set<number>();
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Called by every wait loop: after Ctrl-C the run stops at its next check instead of timing out. */
export function throwIfInterrupted(): void {
  if (interrupted) throw new WaitAborted('interrupted');
}

export const wasInterrupted = () => interrupted;

/** Registers an async undo step; steps run newest first. Returns a function that unregisters it. */
export function onCleanup(name: string, run: () => Promise<void>): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const index = cleanups.indexOf(entry);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

export function killOnExit(pid: number): () => void {
  lastResortKills.add(pid);
  return () => lastResortKills.delete(pid);
}

/** Runs every registered step once, newest first; one step failing or hanging does not stop the others. */
export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const { name, run } = cleanups.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          run(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('did not finish within 30 s')), 30_000);
          }),
        ]);
      } catch (err) {
        console.error(`cleanup: ${name}: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
  })();
  return cleaning;
}

function killEverythingNow() {
  for (const pid of lastResortKills) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  lastResortKills.clear();
}

/**
 * Ctrl-C or SIGTERM: clean up (bounded), then exit 130. A second signal kills everything at once.
 * Children run in their own process groups, so the terminal's SIGINT does not reach them: we must.
 */
export function installExitHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interrupted) {
        console.error(`\n${signal} again: killing every child now`);
        killEverythingNow();
        process.exit(130);
      }
      interrupted = true;
      console.error(`\n${signal}: stopping every process the benchmark started (again to kill at once)`);
      const hardStop = setTimeout(() => {
        killEverythingNow();
        process.exit(130);
      }, 90_000);
      void runCleanups().finally(() => {
        clearTimeout(hardStop);
        killEverythingNow();
        process.exit(130);
      });
    });
  }
  // An error nobody awaited (a client retry firing on a closed connection, say) must still end in
  // a cleanup. While stopping after a signal such errors are expected and not worth a stack trace.
  const fatal = (err: unknown) => {
    if (interrupted) return;
    console.error('benchmark failed:', err);
    interrupted = true;
    void runCleanups().finally(() => {
      killEverythingNow();
      process.exit(1);
    });
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.on('exit', killEverythingNow);
}

/**
 * A temp dir for one run, with `logs/` for its children's logs. It is removed at cleanup, unless the
 * run asked to keep the logs (`keepLogs(true)`: something failed and they explain it). Register it
 * first, so it runs last, after every process that wrote there has stopped.
 */
export function runDirectory(prefix: string): { runDir: string; logDir: string; keepLogs(keep: boolean): void } {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const logDir = path.join(runDir, 'logs');
  fs.mkdirSync(logDir);
  let keep = false;
  onCleanup('remove the temp dir', async () => {
    if (keep) console.error(`logs kept in ${logDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true });
  });
  return { runDir, logDir, keepLogs: (value) => (keep = value) };
}
