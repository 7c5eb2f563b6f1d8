// The burst runner: N items due at one instant, created 50 at a time before it, then timed at the
// sink. One runner for every system, so T1, Herald and BullMQ are measured by the same code.
import { assertChildrenAlive } from './children';
import type { Sink } from './sink';
import { latencySummary, perItemMs, type LatencySummary } from './stats';
import type { BenchSystem } from './system';
import { mapLimit, sleep } from './timing';

/** Creates in flight at once, as a busy client would send them. */
export const CREATE_CONCURRENCY = 50;
/** Before a system's first burst: a create rate low enough for any of them, so the first due time is safe. */
const FIRST_GUESS_PER_SECOND = 20;
const CREATE_TRIES = 3;

export interface BurstRun {
  system: string;
  label: string;
  n: number;
  /** Epoch ms all items were due at. */
  dueAt: number;
  leadMs: number;
  createSeconds: number;
  createPerSecond: number;
  /** Creates that failed once and were tried again (same key, so never twice). */
  createRetries: number;
  /** Items that could not be created at all: lost before they started. */
  createFailures: number;
  createError?: string;
  /** > 0 when the last create finished after the due instant: the run does not measure a burst. */
  overranMs: number;
  /** Sink ids of the items created. */
  ids: string[];
  received: number;
  /** Arrivals beyond the first, summed over ids (recounted at the end of the benchmark). */
  duplicates: number;
  /** Epoch ms of the last first arrival. */
  lastAt: number;
  /** received / (last arrival − due). */
  deliveredPerSecond: number;
  /** Receive − due, per received item, ms. */
  lateness: LatencySummary;
  latenessMs: number[];
  /** The wait for deliveries ended on its timeout with items missing. */
  timedOut: boolean;
  /**
   * Due → the moment the system had finished its work for the burst: every one of its Temporal runs
   * closed (a system not on Temporal is finished at its last arrival). Undefined when runs were still
   * open at the end of the wait.
   */
  finishedMs?: number;
  /** CPU ms per delivered item, by process, from the due instant until the system finished (or the wait ended). */
  cpuMsPerItem?: Record<string, number>;
  /** CPU ms per created item, by process, while the creates ran: where a create's time goes. */
  createCpuMsPerItem?: Record<string, number>;
}

export interface BurstOptions {
  /** Names the run in keys and logs: burst200, sleeping, warm-up. */
  label: string;
  /** More time between the last create and the due instant (the sleeping test reads memory there). */
  extraLeadMs?: number;
  /** Waits until the processes under test are idle, so one run's tail does not slow the next. */
  quiesce?: () => Promise<void>;
  /** After recipients are prepared, right before the first create. */
  beforeCreate?: () => Promise<void>;
  /** After the last create; gets the due instant. Its time is covered by extraLeadMs. */
  afterCreated?: (dueAt: number) => Promise<void>;
  note?: (line: string) => void;
  /** CPU seconds used so far by each process that serves the run (the system's, the Temporal server's…). */
  cpuSeconds?: () => Record<string, number>;
}

export interface BurstResult {
  run: BurstRun;
  /** Earlier tries whose creates overran the due instant (each is followed by one with more lead). */
  overrun: BurstRun[];
}

export class BurstRunner {
  /** Last measured create rate per system, to choose the next due instant. */
  private readonly createRate = new Map<string, number>();
  private sequence = 0;

  constructor(
    private readonly sink: Sink,
    /** Unique per benchmark run: ids never collide with an earlier run on a reused server. */
    private readonly tag: string,
  ) {}

  async run(system: BenchSystem, n: number, options: BurstOptions): Promise<BurstResult> {
    const overrun: BurstRun[] = [];
    let leadMs = this.leadFor(system, n, options);
    for (let attempt = 1; ; attempt++) {
      const run = await this.once(system, n, leadMs, options);
      if (run.overranMs <= 0 || attempt === 3) return { run, overrun };
      options.note?.(
        `${system.name}: creates overran the due instant by ${(run.overranMs / 1000).toFixed(1)} s; ` +
          'that try is not counted, trying again with a larger margin',
      );
      overrun.push(run);
      leadMs = Math.max(2 * leadMs, this.leadFor(system, n, options));
    }
  }

  /** 1.5 × the expected create time + 5 s, so the last create lands well before the due instant and the
   * system has time to put every item to sleep (on 2 busy cores a worker can lag its creates by seconds). */
  private leadFor(system: BenchSystem, n: number, options: BurstOptions): number {
    const perSecond = this.createRate.get(system.name) ?? FIRST_GUESS_PER_SECOND;
    return Math.round(1.5 * (n / perSecond) * 1000 + 5000 + (options.extraLeadMs ?? 0));
  }

  private async once(system: BenchSystem, n: number, leadMs: number, options: BurstOptions): Promise<BurstRun> {
    await system.prepare?.(n);
    await options.quiesce?.();
    await options.beforeCreate?.();
    const prefix = `${this.tag}-${options.label}-${++this.sequence}`;
    const dueAt = Date.now() + leadMs;
    let createRetries = 0;
    let createFailures = 0;
    let createError: string | undefined;

    const cpuAtStart = options.cpuSeconds?.();
    const started = Date.now();
    const created = await mapLimit(Array.from({ length: n }, (_, i) => i), CREATE_CONCURRENCY, async (slot) => {
      for (let attempt = 1; ; attempt++) {
        assertChildrenAlive();
        try {
          return await system.create(`${prefix}-${slot}`, dueAt, slot);
        } catch (err) {
          createError = (err as Error).message;
          if (attempt === CREATE_TRIES) {
            createFailures++;
            return undefined;
          }
          createRetries++;
          await sleep(1000 * attempt);
        }
      }
    });
    const ended = Date.now();
    const cpuAtCreated = options.cpuSeconds?.();
    const ids = created.filter((id): id is string => id !== undefined);
    const createSeconds = (ended - started) / 1000;
    this.createRate.set(system.name, n / createSeconds);
    if (createFailures > 0) options.note?.(`${system.name}: ${createFailures} creates failed after ${CREATE_TRIES} tries: ${createError}`);

    await options.afterCreated?.(dueAt);
    await sleep(dueAt - Date.now());
    const cpuAtDue = options.cpuSeconds?.();
    const timedOut = await this.waitForDeliveries(ids, dueAt);
    const finishedAt = await this.waitForOpenRuns(system);
    const cpuAtEnd = options.cpuSeconds?.();

    const arrivals = ids.map((id) => this.sink.firstAt(id)).filter((at): at is number => at !== undefined);
    const latenessMs = arrivals.map((at) => at - dueAt);
    const lastAt = arrivals.length ? Math.max(...arrivals) : NaN;
    return {
      system: system.name,
      label: options.label,
      n,
      dueAt,
      leadMs,
      createSeconds,
      createPerSecond: n / createSeconds,
      createRetries,
      createFailures,
      createError,
      overranMs: ended - dueAt,
      ids,
      received: arrivals.length,
      duplicates: countDuplicates(this.sink, ids),
      lastAt,
      deliveredPerSecond: arrivals.length / (Math.max(1, lastAt - dueAt) / 1000),
      lateness: latencySummary(latenessMs),
      latenessMs,
      timedOut,
      finishedMs: finishedAt === undefined ? undefined : Math.max(finishedAt, lastAt) - dueAt,
      cpuMsPerItem: cpuAtDue && cpuAtEnd && arrivals.length ? perItemMs(cpuAtDue, cpuAtEnd, arrivals.length) : undefined,
      createCpuMsPerItem: cpuAtStart && cpuAtCreated && ids.length ? perItemMs(cpuAtStart, cpuAtCreated, ids.length) : undefined,
    };
  }

  /**
   * Waits until the system has no open Temporal run left; returns when that was seen, or undefined
   * when runs were still open after OPEN_RUNS_WAIT_MS.
   */
  private async waitForOpenRuns(system: BenchSystem): Promise<number | undefined> {
    if (!system.openRuns) return Date.now();
    const deadline = Date.now() + OPEN_RUNS_WAIT_MS;
    for (;;) {
      assertChildrenAlive();
      if ((await system.openRuns()) === 0) return Date.now();
      if (Date.now() > deadline) return undefined;
      await sleep(500);
    }
  }

  /**
   * Waits until every id arrived, at most 60 s + 50 ms per item after the due instant, and gives up
   * early when nothing new arrived for 60 s. Returns true when it gave up with items missing.
   */
  private async waitForDeliveries(ids: string[], dueAt: number): Promise<boolean> {
    const deadline = Math.max(Date.now(), dueAt) + 60_000 + ids.length * 50;
    let seen = -1;
    let progressAt = Date.now();
    for (;;) {
      assertChildrenAlive();
      const received = ids.reduce((sum, id) => sum + (this.sink.firstAt(id) === undefined ? 0 : 1), 0);
      if (received === ids.length) return false;
      const now = Date.now();
      if (received !== seen) [seen, progressAt] = [received, now];
      if (now > deadline || (now > dueAt + 30_000 && now - progressAt > 60_000)) return true;
      await sleep(200);
    }
  }
}

/** Open runs are counted every half second; the wait gives up 5 minutes after the deliveries. */
const OPEN_RUNS_WAIT_MS = 300_000;

export const countDuplicates = (sink: Sink, ids: readonly string[]) => ids.reduce((sum, id) => sum + Math.max(0, sink.count(id) - 1), 0);
