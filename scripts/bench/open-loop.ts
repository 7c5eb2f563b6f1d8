// Create latency at a fixed arrival rate, open loop: requests go out on a schedule whether or not
// earlier ones were answered, as independent clients would send them. Latency counts from the
// scheduled send time, so a stalled driver or server cannot hide its own delay.
import { throwIfInterrupted } from './cleanup';
import { latencySummary, perItemMs, type LatencySummary } from './stats';
import type { BenchSystem } from './system';
import { mapLimit, sleep, withTimeout } from './timing';

/** The items are due an hour ahead, never during the run, and are removed right after. */
const DUE_AHEAD_MS = 60 * 60_000;
const ANSWER_WAIT_MS = 90_000;

export interface OpenLoopRun {
  system: string;
  ratePerSecond: number;
  durationSeconds: number;
  sent: number;
  ok: number;
  failed: number;
  error?: string;
  /** Scheduled send → answer, ms, for the answered ones. */
  latency: LatencySummary;
  latencyMs: number[];
  /** Answered / (last answer − first send). */
  achievedPerSecond: number;
  /** How far behind its schedule the driver sent its latest request, ms (shows the driver kept up). */
  maxSendSlipMs: number;
  /** Items that may still exist after cleanup (never answered, or could not be removed). */
  leftOver: number;
  /** CPU ms per answered create, by process, from the first send until the last answer. */
  cpuMsPerItem?: Record<string, number>;
}

export async function runOpenLoop(
  system: BenchSystem,
  {
    ratePerSecond,
    durationMs,
    keyPrefix,
    cpuSeconds,
  }: { ratePerSecond: number; durationMs: number; keyPrefix: string; cpuSeconds?: () => Record<string, number> },
): Promise<OpenLoopRun> {
  const total = Math.round((ratePerSecond * durationMs) / 1000);
  const dueAt = Date.now() + DUE_AHEAD_MS;
  const latencyMs: number[] = [];
  const ids: string[] = [];
  const failedKeys: string[] = [];
  let error: string | undefined;
  let maxSendSlipMs = 0;
  const cpuAtStart = cpuSeconds?.();
  const start = performance.now();
  let lastAnswer = start;

  const answers: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / ratePerSecond;
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait);
    throwIfInterrupted();
    maxSendSlipMs = Math.max(maxSendSlipMs, performance.now() - scheduled);
    const key = `${keyPrefix}-${i}`;
    answers.push(
      system.create(key, dueAt).then(
        (id) => {
          lastAnswer = Math.max(lastAnswer, performance.now());
          latencyMs.push(performance.now() - scheduled);
          ids.push(id);
        },
        (err: Error) => {
          error = err.message;
          failedKeys.push(key);
        },
      ),
    );
  }
  let unanswered = 0;
  await withTimeout('open-loop answers', Promise.all(answers), ANSWER_WAIT_MS).catch(() => {
    unanswered = total - latencyMs.length - failedKeys.length;
  });
  const cpuAtAnswered = cpuSeconds?.();

  // A failed create may still have gone through: creating again with the same key finds it (or makes
  // it), so it can be removed too. Both systems treat a repeated key as the same item.
  let leftOver = unanswered;
  const recovered: (string | undefined)[] = await withTimeout(
    'recovering failed open-loop creates',
    mapLimit(failedKeys, 10, (key) =>
      system.create(key, dueAt).catch(() => {
        leftOver++;
        return undefined;
      }),
    ),
    ANSWER_WAIT_MS,
  ).catch(() => {
    leftOver += failedKeys.length;
    return [];
  });
  const toDiscard = [...ids, ...recovered.filter((id): id is string => id !== undefined)];
  await system.discard?.(toDiscard).catch(() => {
    leftOver += toDiscard.length;
  });

  return {
    system: system.name,
    ratePerSecond,
    durationSeconds: durationMs / 1000,
    sent: total,
    ok: latencyMs.length,
    failed: failedKeys.length,
    error,
    latency: latencySummary(latencyMs),
    latencyMs,
    achievedPerSecond: latencyMs.length / ((lastAnswer - start) / 1000),
    maxSendSlipMs,
    leftOver,
    cpuMsPerItem: cpuAtStart && cpuAtAnswered && latencyMs.length ? perItemMs(cpuAtStart, cpuAtAnswered, latencyMs.length) : undefined,
  };
}
