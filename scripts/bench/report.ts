// Prints a run's summary as tables, with each system's ratio to T1.
import { ACTION_KINDS } from './histories';
import { BASELINE, burstRows, lost, openLoopRows, type BenchResult } from './summary';
import { ASLEEP_HOLD_MS } from './sleeping';
import type { Spread } from './stats';

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
      out.push('', 'Bursts: N notifications due at one instant, created 50 at a time before it. Lateness = receive − due, ms.',
        "finished = due → the system's last run for the burst closed, s (a Temporal workflow still records and closes after it sends).");
      const rows = bursts.rows.map((r) => [
        num(r.n),
        r.system,
        fmt(r.createPerSecond),
        fmt(r.deliveredPerSecond),
        fmt(r.p50),
        fmt(r.p95),
        fmt(r.p99),
        fmt(r.max),
        fmt(r.finishedSeconds),
        String(r.lost),
        String(r.duplicates),
      ]);
      out.push(...table(['N', 'system', 'created/s', 'delivered/s', 'p50', 'p95', 'p99', 'max', 'finished s', 'lost', 'dup'], rows));
      for (const r of bursts.rows.filter((row) => row.overruns > 0)) {
        out.push(`  ${num(r.n)}: ${r.system}: ${r.overruns} tries had creates overrunning the due instant; each was redone with more margin`);
      }
      for (const r of bursts.ratios) {
        out.push(`  ${num(r.n)}: ${r.system}/T1  delivered/s ${times(r.deliveredPerSecond)}   p99 lateness ${times(r.p99)}`);
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
      out.push(
        '',
        `${num(n)} sleeping notifications: memory (VmRSS, MiB) before creating, the moment all sleep, and ${ASLEEP_HOLD_MS / 1000} s later (held while they sleep); then all wake at one instant.`,
      );
      const rows = section.sleeping.flatMap((s) =>
        Object.keys(s.rssAsleepKb).map((role, i) => {
          const before = s.rssBeforeKb[role];
          const asleep = s.rssAsleepKb[role];
          const held = s.rssHeldKb[role];
          const grew = before !== undefined && held !== undefined ? held - before : undefined;
          return [
            i === 0 ? s.system : '',
            role,
            mib(before),
            mib(asleep) + (s.settled ? '' : ' (busy)'),
            mib(held),
            mib(grew),
            grew === undefined ? '–' : ((grew / s.n) * 1000 / 1024).toFixed(1),
            i === 0 ? num(s.run.lateness.max) : '',
            i === 0 ? num(s.run.deliveredPerSecond) : '',
            i === 0 ? String(lost(s.run)) : '',
            i === 0 ? String(s.run.duplicates) : '',
          ];
        }),
      );
      out.push(...table(['system', 'process', 'before', 'all asleep', `${ASLEEP_HOLD_MS / 1000} s later`, 'grew', 'per 1,000', 'wake: max lateness ms', 'delivered/s', 'lost', 'dup'], rows));
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
      for (const r of open.ratios) out.push(`  ${r.rate}/s: ${r.system}/T1  p50 ${times(r.p50)}   p99 ${times(r.p99)}`);
      const slip = Math.max(...open.rows.map((r) => r.maxSendSlipMs));
      if (slip > 100) out.push(`  note: the driver fell up to ${num(slip)} ms behind its send schedule`);
    }
  }

  out.push('');
  if (result.problems.length === 0) out.push('Every notification arrived exactly once; no process failed.');
  else out.push('PROBLEMS:', ...result.problems.map((p) => `  - ${p}`));
  return out.join('\n');
}
