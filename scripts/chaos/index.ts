// `npm run chaos`: breaks what Herald depends on while it delivers (the worker, the Temporal
// server, PostgreSQL, the API process, the provider, the embedded default) and checks that nothing
// is lost and nothing is sent twice beyond what at-least-once allows. Loopback only, bounded in
// time; prints a table and exits non-zero when a scenario fails.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../src/logger';
import { childFailures } from '../bench/children';
import { installExitHandlers, runCleanups, runDirectory, wasInterrupted } from '../bench/cleanup';
import { buildWorkflowBundle } from '../bench/temporal';
import type { ChaosContext, Scenario, ScenarioResult } from './scenario';
import { crashBeforeStart } from './scenarios/crash-before-start';
import { embeddedKill } from './scenarios/embedded-kill';
import { postgresOutage } from './scenarios/postgres-outage';
import { providerStorm } from './scenarios/provider-storm';
import { temporalRestart } from './scenarios/temporal-restart';
import { timerDurability } from './scenarios/timer-durability';
import { workerKills } from './scenarios/worker-kills';
import { Temporal } from './world';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SCENARIOS: Record<string, Scenario> = {
  'worker-kills': workerKills,
  'temporal-restart': temporalRestart,
  'postgres-outage': postgresOutage,
  'crash-before-start': crashBeforeStart,
  'provider-storm': providerStorm,
  'timer-durability': timerDurability,
  'embedded-kill': embeddedKill,
};

const USAGE = `Usage: npm run chaos -- [options]

  --only a,b      run only these scenarios: ${Object.keys(SCENARIOS).join(', ')}
  --quick         CI preset: every scenario at a smaller load and shorter faults (about 8 minutes)
  --json FILE     write the results to FILE
`;

const started = Date.now();
const say = (line: string) => console.log(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}`);

const seconds = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

export function renderTable(results: ScenarioResult[]): string {
  const rows = [
    ['scenario', 'load', 'faults injected', 'lost', 'duplicates', '5xx', 'max lateness', 'result'],
    ...results.map((r) => [r.scenario, r.load, r.faults, String(r.lost), String(r.duplicates), String(r.serverErrors), seconds(r.maxLatenessMs), r.passed ? 'pass' : 'FAIL']),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, json: { type: 'string' }, help: { type: 'boolean', default: false } } }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !SCENARIOS[n]);
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  installExitHandlers();
  const { runDir, logDir, keepLogs } = runDirectory('herald-chaos-');

  const log = createLogger('warn', 'chaos');
  say(`Herald chaos suite (${values.quick ? 'quick' : 'full'}): ${names.join(', ')}`);
  const temporal = await Temporal.open(runDir, log);
  say(`Temporal dev server at ${temporal.address} (SQLite file in ${runDir})`);
  say('bundling the workflow code once, so workers start without webpack');
  const workflowBundle = await buildWorkflowBundle('herald', path.join(runDir, 'herald-workflows.js'));
  const ctx: ChaosContext = { temporal, runDir, logDir, repoRoot: REPO_ROOT, workflowBundle, quick: values.quick, log, say };

  const results: ScenarioResult[] = [];
  for (const name of names) {
    const scenario = SCENARIOS[name];
    say(`--- ${scenario.name}`);
    const t = Date.now();
    let result: ScenarioResult;
    try {
      const r = await scenario.run(ctx);
      result = { scenario: scenario.name, ...r, passed: r.checks.every((c) => c.ok), seconds: Math.round((Date.now() - t) / 1000) };
    } catch (err) {
      const failures = childFailures();
      result = {
        scenario: scenario.name,
        load: '—',
        faults: '—',
        lost: NaN,
        duplicates: NaN,
        serverErrors: NaN,
        checks: [{ what: 'the scenario ran to its end', ok: false, detail: [(err as Error).message, ...failures].join('\n') }],
        passed: false,
        seconds: Math.round((Date.now() - t) / 1000),
      };
    }
    results.push(result);
    for (const c of result.checks) say(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}${c.detail ? ` (${c.detail})` : ''}`);
    if (wasInterrupted() || childFailures().length > 0) break;
  }

  console.log(`\n${renderTable(results)}\n`);
  const failed = results.filter((r) => !r.passed);
  console.log(failed.length === 0 ? `all ${results.length} scenarios passed` : `${failed.length} of ${results.length} scenarios failed: ${failed.map((r) => r.scenario).join(', ')}`);
  if (values.json) {
    fs.writeFileSync(values.json, JSON.stringify({ startedAt: new Date(started).toISOString(), quick: values.quick, results }, null, 2));
    console.log(`results written to ${values.json}`);
  }
  keepLogs(failed.length > 0 && !wasInterrupted());
  await runCleanups();
  return failed.length > 0 || results.length < names.length ? 1 : 0;
}

main().then(
  (code) => process.exit(wasInterrupted() ? 130 : code),
  async (err) => {
    console.error(err);
    await runCleanups();
    process.exit(1);
  },
);
