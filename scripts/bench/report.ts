// Turns raw figures into the summary (medians, ranges, ratios to T1) and prints it as tables.
import type { BurstRun } from './burst';
import type { HeraldDb } from './herald';
import { ACTION_KINDS, type ActionCount, type HistorySample } from './histories';
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

const BASELINE = 'T1';

// ---- summary data -------------------------------------------------------------------------------

export interface BurstRow {
  n: number;
  system: string;
  createPerSecond: Spread;
  deliveredPerSecond: Spread;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  max: Spread;
  lost: number;
  duplicates: number;
  /** Tries not counted because their creates overran the due instant. */
  overruns: number;
}

export interface Ratio {
  system: string;
  /** Median of the system / median of T1. */
  [figure: string]: number | string;
}

const lost = (run: BurstRun) => run.n - run.received;
const sumOf = (values: number[]) => values.reduce((a, b) => a + b, 0);
const systemsIn = (names: string[]) => [...new Set(names)].sort((a, b) => (a === BASELINE ? -1 : b === BASELINE ? 1 : 0));

export function burstRows(section: SectionResult): { rows: BurstRow[]; ratios: (Ratio & { n: number })[] } {
  const rows: BurstRow[] = [];
  const ratios: (Ratio & { n: number })[] = [];
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

export function openLoopRows(section: SectionResult): { rows: OpenLoopRow[]; ratios: (Ratio & { rate: number })[] } {
  const rows: OpenLoopRow[] = [];
  const ratios: (Ratio & { rate: number })[] = [];
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
      latenessMaxMs: s.run.lateness.max,
      deliveredPerSecond: s.run.deliveredPerSecond,
      lost: lost(s.run),
      duplicates: s.run.duplicates,
    })),
  }));
}

const medians = (h: HistorySample) =>
  Object.fromEntries(Object.entries(h.summary).map(([k, s]) => [k, s.median])) as Record<keyof ActionCount, number>;

// ---- text ---------------------------------------------------------------------------------------

function num(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 10_000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** "median [min–max]", or just the value when there is one repetition or no spread. */
function fmt(s: Spread, digits = 0): string {
  if (s.min === s.max || !Number.isFinite(s.min)) return num(s.median, digits);
  return `${num(s.median, digits)} [${num(s.min, digits)}–${num(s.max, digits)}]`;
}

const times = (ratio: number) => (Number.isFinite(ratio) ? `×${ratio >= 100 ? ratio.toFixed(0) : ratio.toPrecision(2)}` : '–');
const mib = (kb: number | undefined) => (kb === undefined ? '–' : (kb / 1024).toFixed(0));

function table(headers: string[], rows: string[][], leftColumns = 2): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

export function renderReport(result: BenchResult): string {
  const out: string[] = [];
  const { cores, node, temporal } = result.machine;
  out.push('', `Herald benchmark — ${result.startedAt}, ${cores} cores, node ${node}`, `Temporal: ${temporal}`);
  out.push(
    'T1 = one timer to the due instant + one activity that POSTs {id}; its own worker with default options.',
    'Figures: median [min–max] over the repetitions; ratios are medians of the system over T1.',
  );

  for (const section of result.sections) {
    out.push('', `=== Herald on ${section.db === 'pglite' ? 'PGlite' : 'PostgreSQL'}: ${section.herald} ===`);

    const bursts = burstRows(section);
    if (bursts.rows.length > 0) {
      out.push('', 'Bursts: N notifications due at one instant, created 50 at a time before it. Lateness = receive − due, ms.');
      const rows = bursts.rows.map((r) => [
        num(r.n),
        r.system,
        fmt(r.createPerSecond),
        fmt(r.deliveredPerSecond),
        fmt(r.p50),
        fmt(r.p95),
        fmt(r.p99),
        fmt(r.max),
        String(r.lost),
        String(r.duplicates),
      ]);
      out.push(...table(['N', 'system', 'created/s', 'delivered/s', 'p50', 'p95', 'p99', 'max', 'lost', 'dup'], rows));
      for (const r of bursts.rows.filter((row) => row.overruns > 0)) {
        out.push(`  ${num(r.n)}: ${r.system}: ${r.overruns} tries had creates overrunning the due instant; each was redone with more margin`);
      }
      for (const r of bursts.ratios) {
        out.push(`  ${num(r.n)}: ${r.system}/T1  delivered/s ${times(r.deliveredPerSecond as number)}   p99 lateness ${times(r.p99 as number)}`);
      }
    }

    if (section.histories.length > 0) {
      out.push('', `Temporal per delivered single-target notification (median of ${section.histories[0].perWorkflow.length} histories each):`);
      const rows = section.histories.map((h) => [
        h.system,
        '',
        fmt(h.summary.events),
        ...ACTION_KINDS.map((k) => fmt(h.summary[k])),
        fmt(h.summary.actions),
      ]);
      out.push(
        ...table(['system', '', 'events', 'start', 'timers', 'activity attempts', 'local-act. tasks', 'signals', 'updates', 'upserts', '= actions'], rows),
      );
      const base = section.histories.find((h) => h.system === BASELINE);
      for (const h of section.histories.filter((x) => x.system !== BASELINE)) {
        if (!base) continue;
        out.push(
          `  ${h.system}/T1  actions ${times(h.summary.actions.median / base.summary.actions.median)}   events ${times(h.summary.events.median / base.summary.events.median)}`,
        );
      }
    }

    if (section.sleeping.length > 0) {
      const n = section.sleeping[0].n;
      out.push('', `${num(n)} sleeping notifications: memory (VmRSS, MiB) before creating and once all sleep; then all wake at one instant.`);
      const rows = section.sleeping.flatMap((s) =>
        Object.keys(s.rssAsleepKb).map((role, i) => {
          const before = s.rssBeforeKb[role];
          const asleep = s.rssAsleepKb[role];
          const grew = before !== undefined && asleep !== undefined ? asleep - before : undefined;
          return [
            i === 0 ? s.system : '',
            role,
            mib(before),
            mib(asleep) + (s.settled ? '' : ' (busy)'),
            mib(grew),
            grew === undefined ? '–' : ((grew / s.n) * 1000 / 1024).toFixed(1),
            i === 0 ? num(s.run.lateness.max) : '',
            i === 0 ? num(s.run.deliveredPerSecond) : '',
            i === 0 ? String(lost(s.run)) : '',
            i === 0 ? String(s.run.duplicates) : '',
          ];
        }),
      );
      out.push(...table(['system', 'process', 'before', 'asleep', 'grew', 'per 1,000', 'wake: max lateness ms', 'delivered/s', 'lost', 'dup'], rows));
      const base = section.sleeping.find((s) => s.system === BASELINE);
      for (const s of section.sleeping.filter((x) => x.system !== BASELINE)) {
        if (!base) continue;
        out.push(
          `  ${s.system}/T1  delivered/s ${times(s.run.deliveredPerSecond / base.run.deliveredPerSecond)}   max lateness ${times(s.run.lateness.max / base.run.lateness.max)}`,
        );
      }
    }

    const open = openLoopRows(section);
    if (open.rows.length > 0) {
      const seconds = section.openLoop[0].durationSeconds;
      out.push(
        '',
        `Create latency at a fixed arrival rate, open loop (${seconds} s each; ms from scheduled send to answer).`,
        '  T1 = client.workflow.start; Herald = POST /v1/notifications.',
      );
      const rows = open.rows.map((r) => [`${r.rate}/s`, r.system, fmt(r.p50), fmt(r.p99), fmt(r.achievedPerSecond), String(r.failed)]);
      out.push(...table(['rate', 'system', 'p50', 'p99', 'achieved/s', 'failed'], rows));
      for (const r of open.ratios) out.push(`  ${r.rate}/s: ${r.system}/T1  p50 ${times(r.p50 as number)}   p99 ${times(r.p99 as number)}`);
      const slip = Math.max(...open.rows.map((r) => r.maxSendSlipMs));
      if (slip > 100) out.push(`  note: the driver fell up to ${num(slip)} ms behind its send schedule`);
    }
  }

  out.push('');
  if (result.problems.length === 0) out.push('Every notification arrived exactly once; no process failed.');
  else out.push('PROBLEMS:', ...result.problems.map((p) => `  - ${p}`));
  return out.join('\n');
}
