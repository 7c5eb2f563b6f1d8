// Percentiles and the "median [min–max]" summaries the report prints.

/** Nearest-rank percentile of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const ascending = (values: readonly number[]) => [...values].sort((a, b) => a - b);

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every value, as measured (the JSON keeps them). */
  values: number[];
}

/** Median and range over repetitions; values that could not be measured (NaN) are left out. */
export function spread(values: readonly number[]): Spread {
  const measured = ascending(values.filter((v) => Number.isFinite(v)));
  if (measured.length === 0) return { median: NaN, min: NaN, max: NaN, values: [...values] };
  const mid = Math.floor(measured.length / 2);
  const median = measured.length % 2 ? measured[mid] : (measured[mid - 1] + measured[mid]) / 2;
  return { median, min: measured[0], max: measured.at(-1)!, values: [...values] };
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function latencySummary(values: readonly number[]): LatencySummary {
  const sorted = ascending(values);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted.at(-1)! : NaN,
  };
}

/** CPU ms each process spent per item between two `cpuSeconds` readings. */
export function perItemMs(before: Record<string, number>, after: Record<string, number>, items: number): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((role) => [role, Math.round((1000 * (after[role] - (before[role] ?? 0))) / items * 10) / 10]));
}
