// The raw figures of a run and their summary: medians, ranges and ratios to T1, per table row.
import type { BurstRun } from './burst';
import type { HeraldDb } from './herald';
import type { ActionCount, HistorySample } from './histories';
import type { OpenLoopRun } from './open-loop';
import type { SleepingRun } from './sleeping';
import { spread, type Spread } from './stats';

export interface SectionResult {
  db: HeraldDb;
  /** How Herald ran, for the heading. */
  herald: string;
  warmUp: BurstRun[];
  bursts: (BurstRun & { rep: number; overrunTries: number })[];
  histories: HistorySample[];
  sleeping: SleepingRun[];
  openLoop: (OpenLoopRun & { rep: number })[];
}

export interface BenchResult {
  startedAt: string;
  machine: { cores: number; node: string; temporal: string };
  options: Record<string, unknown>;
  sections: SectionResult[];
  /** Lost or duplicated deliveries and failed processes: any of these fails the run. */
  problems: string[];
}

export const BASELINE = 'T1';

export interface BurstRow {
  n: number;
  system: string;
  createPerSecond: Spread;
  deliveredPerSecond: Spread;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  max: Spread;
  /** Due → all of the burst's runs closed, s (NaN for a run whose wait ended first). */
  finishedSeconds: Spread;
  lost: number;
  duplicates: number;
  /** Tries not counted because their creates overran the due instant. */
  overruns: number;
}

/** Median of the system / median of T1, for the figures a table compares. */
export interface BurstRatio {
  n: number;
  system: string;
  deliveredPerSecond: number;
  p99: number;
}
export interface OpenLoopRatio {
  rate: number;
  system: string;
  p50: number;
  p99: number;
}

export const lost = (run: BurstRun) => run.n - run.received;
const sumOf = (values: number[]) => values.reduce((a, b) => a + b, 0);
const systemsIn = (names: string[]) => [...new Set(names)].sort((a, b) => (a === BASELINE ? -1 : b === BASELINE ? 1 : 0));

export function burstRows(section: SectionResult): { rows: BurstRow[]; ratios: BurstRatio[] } {
  const rows: BurstRow[] = [];
  const ratios: BurstRatio[] = [];
  for (const n of [...new Set(section.bursts.map((b) => b.n))]) {
    const ofSize = section.bursts.filter((b) => b.n === n);
    for (const system of systemsIn(ofSize.map((b) => b.system))) {
      const runs = ofSize.filter((b) => b.system === system);
      rows.push({
        n,
        system,
        createPerSecond: spread(runs.map((r) => r.createPerSecond)),
        deliveredPerSecond: spread(runs.map((r) => r.deliveredPerSecond)),
        p50: spread(runs.map((r) => r.lateness.p50)),
        p95: spread(runs.map((r) => r.lateness.p95)),
        p99: spread(runs.map((r) => r.lateness.p99)),
        max: spread(runs.map((r) => r.lateness.max)),
        finishedSeconds: spread(runs.map((r) => (r.finishedMs === undefined ? NaN : r.finishedMs / 1000))),
        lost: sumOf(runs.map(lost)),
        duplicates: sumOf(runs.map((r) => r.duplicates)),
        overruns: sumOf(runs.map((r) => r.overrunTries)),
      });
    }
    const base = rows.find((r) => r.n === n && r.system === BASELINE);
    for (const row of rows.filter((r) => r.n === n && r.system !== BASELINE)) {
      if (!base) continue;
      ratios.push({
        n,
        system: row.system,
        deliveredPerSecond: row.deliveredPerSecond.median / base.deliveredPerSecond.median,
        p99: row.p99.median / base.p99.median,
      });
    }
  }
  return { rows, ratios };
}

export interface OpenLoopRow {
  rate: number;
  system: string;
  p50: Spread;
  p99: Spread;
  achievedPerSecond: Spread;
  failed: number;
  maxSendSlipMs: number;
}

export function openLoopRows(section: SectionResult): { rows: OpenLoopRow[]; ratios: OpenLoopRatio[] } {
  const rows: OpenLoopRow[] = [];
  const ratios: OpenLoopRatio[] = [];
  for (const rate of [...new Set(section.openLoop.map((o) => o.ratePerSecond))]) {
    const atRate = section.openLoop.filter((o) => o.ratePerSecond === rate);
    for (const system of systemsIn(atRate.map((o) => o.system))) {
      const runs = atRate.filter((o) => o.system === system);
      rows.push({
        rate,
        system,
        p50: spread(runs.map((r) => r.latency.p50)),
        p99: spread(runs.map((r) => r.latency.p99)),
        achievedPerSecond: spread(runs.map((r) => r.achievedPerSecond)),
        failed: sumOf(runs.map((r) => r.failed)),
        maxSendSlipMs: Math.max(...runs.map((r) => r.maxSendSlipMs)),
      });
    }
    const base = rows.find((r) => r.rate === rate && r.system === BASELINE);
    for (const row of rows.filter((r) => r.rate === rate && r.system !== BASELINE)) {
      if (base) ratios.push({ rate, system: row.system, p50: row.p50.median / base.p50.median, p99: row.p99.median / base.p99.median });
    }
  }
  return { rows, ratios };
}

export function summarize(result: BenchResult) {
  return result.sections.map((section) => ({
    db: section.db,
    bursts: burstRows(section),
    openLoop: openLoopRows(section),
    histories: section.histories.map((h) => ({ system: h.system, samples: h.perWorkflow.length, median: medians(h) })),
    sleeping: section.sleeping.map((s) => ({
      system: s.system,
      n: s.n,
      rssBeforeKb: s.rssBeforeKb,
      rssAsleepKb: s.rssAsleepKb,
      rssHeldKb: s.rssHeldKb,
      latenessMaxMs: s.run.lateness.max,
      deliveredPerSecond: s.run.deliveredPerSecond,
      lost: lost(s.run),
      duplicates: s.run.duplicates,
    })),
  }));
}

const medians = (h: HistorySample) =>
  Object.fromEntries(Object.entries(h.summary).map(([k, s]) => [k, s.median])) as Record<keyof ActionCount, number>;
