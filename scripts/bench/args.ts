// Command-line options of `npm run bench`. --quick is the CI preset; explicit options still win.
import { parseArgs } from 'node:util';
import type { HeraldDb } from './herald';

export interface BenchArgs {
  dbs: HeraldDb[];
  sizes: number[];
  reps: number;
  json?: string;
  quick: boolean;
  temporalAddress?: string;
  peers: 'bullmq'[];
  openLoop: { rates: number[]; seconds: number };
  sleeping: number;
  histories: number;
  /** Extra time between a burst's last create and its due instant, ms (0: the plain burst shape). */
  settleMs: number;
  /** Which figures to measure (all by default); a narrower run is for quick experiments. */
  parts: BenchPart[];
}

export const BENCH_PARTS = ['bursts', 'histories', 'sleeping', 'open-loop'] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

export const USAGE = `Usage: npm run bench -- [options]

  --db pglite|postgres|both   Herald's database (default both)
  --sizes 200,1000,5000       burst sizes: notifications due at one instant
  --reps 3                    repetitions of each figure, T1 and Herald alternating
  --sleeping 10000            notifications put to sleep for the memory and wake-up figure
  --peer bullmq               also run the bursts as BullMQ delayed jobs on a local redis-server
  --temporal-address H:P      use this Temporal server (loopback only) instead of starting one
  --rates 50,200              open-loop arrival rates, creates per second
  --settle 60                 seconds more between a burst's last create and its due instant
                              (default none), so the first workflow tasks its creates left run first
  --json FILE                 write every raw figure and the summary to FILE
  --parts bursts,histories,sleeping,open-loop
                              measure only these figures (default all; histories need bursts)
  --quick                     CI preset: PGlite, one burst of 200, 1 rep, 5 s open loop at 50/s,
                              500 sleeping; fails only on lost or duplicated deliveries or a
                              process failure, never on timings
`;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

function positiveInts(name: string, text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new Error(`${name}: expected positive whole numbers separated by commas, got "${text}"`);
  }
  return values;
}

export function parseBenchArgs(argv: string[]): BenchArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string' },
      sizes: { type: 'string' },
      reps: { type: 'string' },
      sleeping: { type: 'string' },
      rates: { type: 'string' },
      json: { type: 'string' },
      parts: { type: 'string' },
      settle: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'temporal-address': { type: 'string' },
      peer: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;

  const db = values.db ?? (quick ? 'pglite' : 'both');
  if (!['pglite', 'postgres', 'both'].includes(db)) throw new Error(`--db: expected pglite, postgres or both, got "${db}"`);

  const peers = (values.peer ?? []).flatMap((p) => p.split(','));
  for (const peer of peers) if (peer !== 'bullmq') throw new Error(`--peer: the only peer is bullmq, got "${peer}"`);

  const address = values['temporal-address'];
  if (address !== undefined) {
    const match = /^([^:]+):(\d+)$/.exec(address);
    // The benchmark sends load: it may only ever aim at this machine.
    if (!match || !LOOPBACK_HOSTS.has(match[1])) throw new Error(`--temporal-address: expected 127.0.0.1:PORT (loopback only), got "${address}"`);
  }

  const parts = values.parts ? values.parts.split(',').map((p) => p.trim()) : [...BENCH_PARTS];
  for (const part of parts) if (!(BENCH_PARTS as readonly string[]).includes(part)) throw new Error(`--parts: expected some of ${BENCH_PARTS.join(', ')}, got "${part}"`);

  return {
    dbs: db === 'both' ? ['pglite', 'postgres'] : [db as HeraldDb],
    sizes: values.sizes ? positiveInts('--sizes', values.sizes) : quick ? [200] : [200, 1000, 5000],
    reps: values.reps ? positiveInts('--reps', values.reps)[0] : quick ? 1 : 3,
    json: values.json,
    quick,
    temporalAddress: address?.replace(/^localhost:/, '127.0.0.1:'),
    peers: peers as 'bullmq'[],
    openLoop: {
      rates: values.rates ? positiveInts('--rates', values.rates) : quick ? [50] : [50, 200],
      seconds: quick ? 5 : 15,
    },
    sleeping: values.sleeping ? positiveInts('--sleeping', values.sleeping)[0] : quick ? 500 : 10_000,
    histories: 20,
    settleMs: values.settle ? positiveInts('--settle', values.settle)[0] * 1000 : 0,
    parts: parts as BenchPart[],
  };
}
