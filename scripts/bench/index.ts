// `npm run bench`: Herald next to T1, the cheapest Temporal workflow that does its job, on one
// Temporal server in one run, loopback only. See scripts/bench/README.md for what each figure means.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/logger';
import { parseBenchArgs, USAGE, type BenchArgs } from './args';
import { BurstRunner, countDuplicates, type BurstRun } from './burst';
import { childFailures, cpuSeconds, cpuSecondsOfCommand, waitForQuiet } from './children';
import { installExitHandlers, runCleanups, runDirectory, wasInterrupted } from './cleanup';
import { buildCompiledHerald, findJemalloc, startHerald, type HeraldDb } from './herald';
import { sampleHistories } from './histories';
import { runOpenLoop } from './open-loop';
import { startBullmq } from './peer-bullmq/system';
import { createScratchDatabase } from './postgres';
import { renderReport } from './report';
import { startSink, type Sink } from './sink';
import { runSleeping } from './sleeping';
import { summarize, type BenchResult, type SectionResult } from './summary';
import type { BenchSystem } from './system';
import { startT1, T1_WORKFLOWS } from './t1/system';
import { buildWorkflowBundle, openTemporal, type TemporalServer } from './temporal';
import { sleep } from './timing';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Herald compiled for the PostgreSQL runs; inside the repo so that node finds its node_modules. */
const COMPILED_DIR = path.join(REPO_ROOT, 'dist', 'bench');
/** A first small burst per system: starts connections, JIT and caches, and proves the path works. */
const WARM_UP = 50;
const started = Date.now();
const say = (line: string) => console.log(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}`);

interface Context {
  args: BenchArgs;
  server: TemporalServer;
  sink: Sink;
  runner: BurstRunner;
  tag: string;
  runDir: string;
  logDir: string;
  t1Bundle: string;
  heraldBundle?: string;
  jemalloc?: string;
  peers: BenchSystem[];
}

const perItemText = (figures: Record<string, number>) => Object.entries(figures).map(([role, ms]) => `${role} ${ms}`).join(', ');

function describeRun(r: BurstRun): string {
  const due = `due ${(r.leadMs / 1000).toFixed(1)} s after the first create`;
  const created = `created ${r.n} in ${r.createSeconds.toFixed(1)} s (${r.createPerSecond.toFixed(0)}/s), ${due}`;
  const arrived = `${r.received}/${r.n} arrived${r.timedOut ? ' (gave up waiting)' : ''}`;
  const late = `lateness p50 ${r.lateness.p50} / p99 ${r.lateness.p99} / max ${r.lateness.max} ms`;
  const finished = `; ${r.finishedMs === undefined ? 'runs still open when the wait ended' : `finished ${(r.finishedMs / 1000).toFixed(1)} s after due`}`;
  const createCpu = r.createCpuMsPerItem ? `; CPU ms per create: ${perItemText(r.createCpuMsPerItem)}` : '';
  const cpu = r.cpuMsPerItem ? `; CPU ms per item: ${perItemText(r.cpuMsPerItem)}` : '';
  return `${created}; ${arrived}, ${r.deliveredPerSecond.toFixed(0)}/s, ${late}${finished}${cpu}${createCpu}`;
}

async function runSection(db: HeraldDb, ctx: Context, section: SectionResult): Promise<void> {
  const { args, server, runner, tag } = ctx;
  say(`--- Herald on ${db}: starting T1's worker and Herald`);
  const t1 = await startT1({
    client: server.client,
    temporalAddress: server.address,
    taskQueue: `bench-t1-${tag}-${db}`,
    sinkUrl: ctx.sink.url,
    workflowBundle: ctx.t1Bundle,
    repoRoot: REPO_ROOT,
    logDir: ctx.logDir,
    label: db,
  });
  const databaseUrl = db === 'postgres' ? (await createScratchDatabase(REPO_ROOT)).url : undefined;
  const herald = await startHerald({
    db,
    client: server.client,
    temporalAddress: server.address,
    taskQueue: `bench-herald-${tag}-${db}`,
    sinkUrl: ctx.sink.url,
    repoRoot: REPO_ROOT,
    dataDir: path.join(ctx.runDir, `herald-${db}`),
    logDir: ctx.logDir,
    databaseUrl,
    workflowBundle: ctx.heraldBundle,
    compiledDir: COMPILED_DIR,
    jemalloc: ctx.jemalloc,
  });
  say(`Herald is up at ${herald.apiUrl} (${herald.processes().map((p) => `${p.role} pid ${p.pid}`).join(', ')})`);
  const systems = [t1, herald, ...ctx.peers];
  const onTemporal = [t1, herald];
  const note = (line: string) => say(`  ${line}`);
  // Every run starts on idle processes: a system still finishing its last run (recording
  // deliveries, completing workflows) would otherwise slow whichever system runs next.
  const quiesce = async (timeoutMs = 30_000) => {
    const pids = [...systems.flatMap((s) => s.processes().map((p) => p.pid)), ...(server.pid ? [server.pid] : [])];
    if (!(await waitForQuiet(pids, { timeoutMs, busyShare: 0.1 }))) note(`processes were still busy after ${timeoutMs / 1000} s; going on`);
  };

  // Where a run's CPU goes (bursts, open loop): the system's own processes, the Temporal server,
  // PostgreSQL's backends, and this driver (it makes T1's Temporal calls itself, and sends Herald's
  // HTTP requests).
  const cpuOf = (system: BenchSystem) => () => ({
    driver: cpuSeconds(process.pid),
    ...Object.fromEntries(system.processes().map((p) => [p.role, cpuSeconds(p.pid)])),
    ...(server.pid ? { temporal: cpuSeconds(server.pid) } : {}),
    ...(db === 'postgres' && system.name === 'Herald' ? { postgres: cpuSecondsOfCommand('postgres') } : {}),
  });

  for (const system of systems) {
    const { run } = await runner.run(system, WARM_UP, { label: 'warmup', note, quiesce });
    section.warmUp.push(run);
    say(`warm-up ${system.name}: ${describeRun(run)}`);
  }

  // Memory first, on processes that have run nothing but the warm-up: a burst before it would leave
  // its heap high-water mark in the reading.
  for (const system of args.parts.includes('sleeping') ? onTemporal : []) {
    say(`${args.sleeping.toLocaleString('en-US')} sleeping ${system.name}: creating`);
    // A worker works through its backlog of first workflow tasks after the last create: about 10 ms
    // each on 2 cores, so the settle budget grows with the count (20 s for 500, 200 s for 10,000).
    const settleMs = Math.min(300_000, Math.max(20_000, args.sleeping * 20));
    const result = await runSleeping(runner, system, args.sleeping, { settleMs, note, quiesce, cpuSeconds: cpuOf(system) });
    section.sleeping.push(result);
    say(`${args.sleeping.toLocaleString('en-US')} sleeping ${system.name}: ${describeRun(result.run)}`);
    // Temporal records thousands of closed runs in its visibility store for minutes afterwards: a
    // burst measured meanwhile would be charged for that work.
    await quiesce(300_000);
  }

  for (const n of args.parts.includes('bursts') ? args.sizes : []) {
    for (let rep = 1; rep <= args.reps; rep++) {
      // Alternating systems within each repetition: a slow drift of the machine hits all of them alike.
      for (const system of systems) {
        const { run, overrun } = await runner.run(system, n, { label: `burst${n}`, note, quiesce, cpuSeconds: cpuOf(system), extraLeadMs: args.settleMs });
        section.bursts.push({ ...run, rep, overrunTries: overrun.length });
        say(`burst ${n} ${system.name} rep ${rep}/${args.reps}: ${describeRun(run)}`);
      }
    }
  }

  for (const system of args.parts.includes('histories') ? onTemporal : []) {
    const run = section.bursts.find((b) => b.system === system.name && b.received > 0);
    if (!run) continue;
    const delivered = run.ids.filter((id) => ctx.sink.firstAt(id) !== undefined).map((id) => system.workflowId!(id));
    const sample = await sampleHistories(server.client, system.name, delivered, args.histories);
    section.histories.push(sample);
    say(`histories ${system.name}: ${sample.summary.events.median} events, ${sample.summary.actions.median} actions (median of ${sample.perWorkflow.length})`);
  }

  for (const rate of args.parts.includes('open-loop') ? args.openLoop.rates : []) {
    for (let rep = 1; rep <= args.reps; rep++) {
      for (const system of onTemporal) {
        await quiesce();
        const keyPrefix = `${tag}-open${rate}-${db}-${rep}-${system.name.toLowerCase()}`;
        const run = await runOpenLoop(system, { ratePerSecond: rate, durationMs: args.openLoop.seconds * 1000, keyPrefix, cpuSeconds: cpuOf(system) });
        section.openLoop.push({ ...run, rep });
        say(
          `open loop ${rate}/s ${system.name} rep ${rep}/${args.reps}: ${run.ok}/${run.sent} answered, ` +
            `p50 ${run.latency.p50.toFixed(0)} / p99 ${run.latency.p99.toFixed(0)} ms, ${run.achievedPerSecond.toFixed(0)}/s` +
            (run.failed ? `, ${run.failed} failed (${run.error})` : '') +
            (run.leftOver ? `, ${run.leftOver} may be left over` : '') +
            (run.cpuMsPerItem ? `; CPU ms per create: ${perItemText(run.cpuMsPerItem)}` : ''),
        );
      }
    }
  }

  await herald.stop();
  await t1.stop();
}

/** Lost and duplicated deliveries of every measured or discarded run, and processes that died. */
function findProblems(result: BenchResult, sink: Sink): string[] {
  const problems: string[] = [];
  for (const section of result.sections) {
    const runs = [...section.warmUp, ...section.bursts, ...section.sleeping.flatMap((s) => [s.run, ...s.overrun])];
    for (const run of runs) {
      run.duplicates = countDuplicates(sink, run.ids);
      const what = `${section.db}, ${run.system} ${run.label} (${run.n})`;
      if (run.received < run.n) problems.push(`${what}: ${run.n - run.received} of ${run.n} never arrived${run.createFailures ? ` (${run.createFailures} could not be created: ${run.createError})` : ''}`);
      if (run.duplicates > 0) problems.push(`${what}: ${run.duplicates} duplicate deliveries`);
    }
  }
  return [...problems, ...childFailures()];
}

async function main(): Promise<number> {
  let args: BenchArgs | 'help';
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  installExitHandlers();

  const { runDir, logDir, keepLogs } = runDirectory('herald-bench-');

  const result: BenchResult = {
    startedAt: new Date().toISOString(),
    machine: { cores: os.cpus().length, node: process.version, temporal: '' },
    options: { ...args },
    sections: [],
    problems: [],
  };
  let sink: Sink | undefined;
  let failure: Error | undefined;
  try {
    const tag = crypto.randomBytes(3).toString('hex');
    const log = createLogger('warn', 'bench');
    say(`Herald benchmark (${args.quick ? 'quick' : 'full'}): Herald on ${args.dbs.join(' and ')}, bursts ${args.sizes.join(', ')} × ${args.reps}${args.settleMs ? `, each due ${args.settleMs / 1000} s later than the plain shape` : ''}`);
    const server = await openTemporal({ address: args.temporalAddress, dir: runDir, log });
    result.machine.temporal = server.description;
    say(`Temporal: ${server.description}`);
    sink = await startSink();
    say('bundling workflow code (once, so workers start without webpack)');
    const t1Bundle = await buildWorkflowBundle(T1_WORKFLOWS, path.join(runDir, 't1-workflows.js'));
    let heraldBundle: string | undefined;
    let jemalloc: string | undefined;
    if (args.dbs.includes('postgres')) {
      heraldBundle = await buildWorkflowBundle('herald', path.join(runDir, 'herald-workflows.js'));
      say('compiling Herald with tsc, as its Docker image runs it');
      buildCompiledHerald(REPO_ROOT, COMPILED_DIR);
      jemalloc = findJemalloc();
      say(jemalloc ? `Herald on PostgreSQL preloads ${jemalloc}, as its Docker image does` : 'jemalloc is missing: Herald on PostgreSQL runs on glibc malloc and uses more memory than in production');
    }
    const peers = args.peers.includes('bullmq') ? [await startBullmq({ sinkUrl: sink.url, runDir, logDir, repoRoot: REPO_ROOT })] : [];
    const ctx: Context = { args, server, sink, runner: new BurstRunner(sink, tag), tag, runDir, logDir, t1Bundle, heraldBundle, jemalloc, peers };
    for (const db of args.dbs) {
      const section: SectionResult = { db, herald: heraldLayout(db), warmUp: [], bursts: [], histories: [], sleeping: [], openLoop: [] };
      result.sections.push(section);
      await runSection(db, ctx, section);
    }
    // A late retry would arrive after its run was timed: give stragglers a moment before the final count.
    await sleep(2_000);
  } catch (err) {
    failure = err as Error;
  }

  if (sink) result.problems = findProblems(result, sink);
  // A dead child is already listed; its error only says that the run stopped there.
  if (failure && !result.problems.includes(failure.message)) result.problems.push(`the benchmark stopped: ${failure.message}`);
  else if (failure) result.problems.push('the benchmark stopped there');
  console.log(renderReport(result));
  if (sink && sink.unidentified() > 0) console.log(`note: ${sink.unidentified()} arrivals at the sink carried no id`);
  if (args.json) {
    fs.writeFileSync(args.json, JSON.stringify({ ...result, summary: summarize(result) }, null, 2));
    console.log(`raw figures and summary written to ${args.json}`);
  }
  // The logs explain a failure; after Ctrl-C nobody asked for them.
  keepLogs(result.problems.length > 0 && !wasInterrupted());
  await runCleanups();
  return result.problems.length > 0 ? 1 : 0;
}

function heraldLayout(db: HeraldDb): string {
  return db === 'pglite'
    ? 'one process, src/main.ts (API + worker, PGlite in a temp DATA_DIR)'
    : 'api-main + worker-main compiled with tsc (as in the Docker image), sharing a scratch database';
}

main().then(
  (code) => process.exit(wasInterrupted() ? 130 : code),
  async (err) => {
    console.error(err);
    await runCleanups();
    process.exit(1);
  },
);
