// Many notifications asleep at once: the memory they hold while they wait, then how fast they all
// wake and deliver when they come due together. Uses the burst runner with a longer lead.
import type { BurstOptions, BurstRun, BurstRunner } from './burst';
import { assertChildrenAlive, rssKb, waitForQuiet } from './children';
import { sleep } from './timing';
import type { BenchSystem } from './system';

export interface SleepingRun {
  system: string;
  n: number;
  /**
   * VmRSS per process role, KiB: before the first create; the moment all are asleep (the processes
   * went quiet); and `ASLEEP_HOLD_MS` later, once the allocator and the garbage collector have given
   * back what the creates used — what the processes hold while notifications sleep for hours.
   */
  rssBeforeKb: Record<string, number | undefined>;
  rssAsleepKb: Record<string, number | undefined>;
  rssHeldKb: Record<string, number | undefined>;
  /** Whether the processes went quiet before memory was read (false: read at the settle timeout). */
  settled: boolean;
  run: BurstRun;
  overrun: BurstRun[];
}

/**
 * How long after going quiet memory is read again. What the creates allocated is given back only
 * later: jemalloc returns freed pages after 10 s (its dirty-page decay), and V8's memory reducer runs
 * its collections from about 8 s after allocation stops, in rounds. Measured with 5,000 asleep: 360
 * MiB when the worker went quiet, 231 MiB 25 s later, and no change over the next minute.
 */
export const ASLEEP_HOLD_MS = 60_000;

const readRss = (system: BenchSystem) => Object.fromEntries(system.processes().map(({ role, pid }) => [role, rssKb(pid)]));

export async function runSleeping(
  runner: BurstRunner,
  system: BenchSystem,
  n: number,
  { settleMs, note, quiesce, cpuSeconds }: { settleMs: number; note: (line: string) => void; quiesce: () => Promise<void> } & Pick<BurstOptions, 'cpuSeconds'>,
): Promise<SleepingRun> {
  let rssBeforeKb: Record<string, number | undefined> = {};
  let rssAsleepKb: Record<string, number | undefined> = {};
  let rssHeldKb: Record<string, number | undefined> = {};
  let settled = false;
  const { run, overrun } = await runner.run(system, n, {
    label: 'sleeping',
    // Room after the last create for the processes to go quiet, then to read their memory.
    extraLeadMs: settleMs + ASLEEP_HOLD_MS + 5_000,
    quiesce,
    cpuSeconds,
    beforeCreate: async () => {
      rssBeforeKb = readRss(system);
    },
    afterCreated: async (dueAt) => {
      // "Asleep" = every workflow reached its timer and the processes stopped working on them.
      const pids = system.processes().map((p) => p.pid);
      settled = await waitForQuiet(pids, { timeoutMs: Math.min(settleMs, dueAt - Date.now() - ASLEEP_HOLD_MS - 3_000) });
      rssAsleepKb = readRss(system);
      if (!settled) note(`${system.name}: processes were still busy when their memory was read`);
      await sleep(Math.max(0, Math.min(ASLEEP_HOLD_MS, dueAt - Date.now() - 3_000)));
      assertChildrenAlive();
      rssHeldKb = readRss(system);
    },
    note,
  });
  return { system: system.name, n, rssBeforeKb, rssAsleepKb, rssHeldKb, settled, run, overrun };
}
