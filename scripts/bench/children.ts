// Child processes of the benchmark: each in its own process group (so helpers it spawns, such as
// esbuild's service, go with it), output to a log file, and an unexpected exit fails the run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { killOnExit, onCleanup, throwIfInterrupted } from './cleanup';
import { sleep, WaitAborted } from './timing';

export interface Child {
  name: string;
  pid: number;
  logFile: string;
  /** SIGTERM to the group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the process alone (what it started lives on, as after a crash); resolves once it is gone. */
  kill(): Promise<void>;
  /** The process is expected to end by itself (an injected crash): its exit is no failure. Resolves when it has. */
  expectExit(): Promise<void>;
  /** The end of its log, for error messages. */
  tail(lines?: number): string;
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Options for node itself, before the entry (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
}

const failures: string[] = [];

/**
 * Throws if a child exited that nobody asked to stop (the figures would be meaningless), or if the
 * run was interrupted. Every wait loop calls it.
 */
export function assertChildrenAlive(): void {
  throwIfInterrupted();
  if (failures.length > 0) throw new WaitAborted(failures.join('\n'));
}

export function childFailures(): readonly string[] {
  return failures;
}

export function spawnChild(name: string, command: string, args: string[], { cwd, env, logDir }: SpawnOptions): Child {
  const logFile = path.join(logDir, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  const proc = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const pid = proc.pid;
  const forgetKill = killOnExit(-pid);
  let stopping = false;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exited = true;
      forgetKill();
      if (!stopping) failures.push(`${name} (pid ${pid}) exited unexpectedly (${signal ?? `code ${code}`}); its log ends:\n${tail(20)}`);
      resolve();
    });
    proc.once('error', (err) => {
      exited = true;
      forgetKill();
      failures.push(`${name} could not run: ${err.message}`);
      resolve();
    });
  });

  function tail(lines = 20): string {
    try {
      return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  };

  const child: Child = {
    name,
    pid,
    logFile,
    tail,
    async stop(graceMs = 10_000) {
      stopping = true;
      unregister();
      if (!exited) {
        signalGroup('SIGTERM');
        if (!(await Promise.race([exit.then(() => true), sleep(graceMs).then(() => false)]))) signalGroup('SIGKILL');
        await Promise.race([exit, sleep(5_000)]);
      }
      // Helpers left in the group (none expected) must not outlive their parent.
      signalGroup('SIGKILL');
    },
    async kill() {
      const exited = child.expectExit();
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
      await exited;
    },
    expectExit() {
      stopping = true;
      return exit;
    },
  };
  const unregister = onCleanup(`stop ${name}`, () => child.stop());
  return child;
}

/**
 * Runs a TypeScript entry with `node --import tsx` (as `npm start` runs it), compiled JavaScript with
 * plain node. Not the tsx CLI: it runs the program in a second node process, and memory would then
 * be read from the wrong pid.
 */
export function spawnNodeEntry(name: string, entry: string, options: SpawnOptions): Child {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawnChild(name, process.execPath, [...(options.nodeArgs ?? []), ...loader, entry], options);
}

/** Resident memory in KiB (VmRSS), or undefined when the process is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (user + system) the process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by every process whose command name is `comm` (e.g. all of PostgreSQL's backends). */
export function cpuSecondsOfCommand(comm: string): number {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) total += cpuSeconds(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

/**
 * Waits until the processes together use less than `busyShare` of one core for two seconds in a row,
 * or `timeoutMs` passes; returns whether they went quiet. Used before reading memory "at rest".
 */
export async function waitForQuiet(pids: number[], { timeoutMs, busyShare = 0.05 }: { timeoutMs: number; busyShare?: number }): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quietSeconds = 0;
  let before = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  while (Date.now() < deadline) {
    await sleep(1000);
    assertChildrenAlive();
    const now = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    quietSeconds = now - before < busyShare ? quietSeconds + 1 : 0;
    before = now;
    if (quietSeconds >= 2) return true;
  }
  return false;
}
