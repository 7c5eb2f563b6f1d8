// Herald as it runs for real: child processes of this working tree, on PGlite (one process, API and
// worker together, as `npm start`) or on PostgreSQL (API and worker apart, as in production).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadConfig, SETTING_NAMES } from '../../src/config';
import { assertChildrenAlive, spawnNodeEntry, type Child } from './children';
import { freePort } from './ports';
import { installDebianPackage } from './debian';
import type { BenchSystem } from './system';
import { countOpenRuns, terminateWorkflows, waitForPollers } from './temporal';
import { mapLimit, waitUntil } from './timing';

export type HeraldDb = 'pglite' | 'postgres';

export interface HeraldOptions {
  db: HeraldDb;
  client: Client;
  temporalAddress: string;
  taskQueue: string;
  sinkUrl: string;
  repoRoot: string;
  /** Herald's DATA_DIR (PGlite files, generated VAPID keys) lives here. */
  dataDir: string;
  logDir: string;
  /** PostgreSQL only: the scratch database both processes share. */
  databaseUrl?: string;
  /** PostgreSQL only: a prebuilt workflow bundle, so the worker starts without webpack. */
  workflowBundle?: string;
  /** PostgreSQL only: Herald compiled by `buildCompiledHerald`, run with plain node as in production. */
  compiledDir?: string;
  /** PostgreSQL only: jemalloc to preload, as the Docker image does (see `findJemalloc`). */
  jemalloc?: string;
}

/**
 * jemalloc, which the Docker image preloads into Herald's processes (glibc's malloc fragments under
 * the SDK's native threads: see docs/performance.md). Installed when missing; undefined if it cannot be.
 */
export function findJemalloc(): string | undefined {
  const multiarch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch as string] ?? process.arch;
  const found = () => [`/usr/lib/${multiarch}-linux-gnu/libjemalloc.so.2`, '/usr/lib/libjemalloc.so.2'].find((p) => fs.existsSync(p));
  return installDebianPackage('libjemalloc2', () => found() !== undefined, "the memory allocator of Herald's production image") ? found() : undefined;
}

/**
 * Compiles Herald as its Docker image does (tsc, then the migrations beside the output), so the
 * PostgreSQL processes run and use memory as they do in production, without tsx compiling on the fly.
 */
export function buildCompiledHerald(repoRoot: string, outDir: string): void {
  fs.rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: repoRoot, stdio: 'inherit' });
  fs.cpSync(path.join(repoRoot, 'drizzle', 'migrations'), path.join(outDir, 'drizzle', 'migrations'), { recursive: true });
}

export interface HeraldSystem extends BenchSystem {
  apiUrl: string;
  stop(): Promise<void>;
}

function settingOf(assignment: string): [string, string] {
  const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(assignment);
  if (!match || !SETTING_NAMES.has(match[1])) throw new Error(`BENCH_HERALD_ENV: expected NAME=value of a Herald setting, got "${assignment}"`);
  return [match[1], match[2]];
}

/** The throttle allows a burst of 20 per user by default; a bench burst gives a user at most this many. */
const MAX_PER_USER_PER_BURST = 10;
/** Open-loop items are never due during the run, so they need no recipient with a webhook. */
const OPEN_LOOP_USER = 'bench-open-loop';

/**
 * The environment of a Herald process: the caller's own, without any Herald setting that would leak
 * in from the shell, then development defaults and `settings`.
 */
export function heraldEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTING_NAMES.has(name)));
  return { ...inherited, NODE_ENV: 'development', LOG_LEVEL: 'warn', ...settings };
}

/** Resolves once the API at `apiUrl` answers /readyz with 200; a child that died ends the wait. */
export const waitForApi = (apiUrl: string) =>
  waitUntil(
    `Herald's API at ${apiUrl}/readyz`,
    async () => {
      assertChildrenAlive();
      const response = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      return response.ok ? true : undefined;
    },
    // The PGlite process bundles the workflows with webpack before it listens: slow on 2 busy cores.
    { timeoutMs: 300_000, intervalMs: 500 },
  );

/**
 * Keep-alive connections, as a client sending many requests would hold. `node:http` rather than
 * fetch: in this same process fetch cost about 1 ms of CPU per request against 0.3 (measured
 * 2026-12-07), and on 2 cores the driver's CPU is taken from the systems it measures.
 */
const apiAgent = new http.Agent({ keepAlive: true });
const REQUEST_TIMEOUT_MS = 30_000;

function postJson(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent: apiAgent, timeout: REQUEST_TIMEOUT_MS, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    request.on('error', reject);
    request.end(data);
  });
}

export async function startHerald(o: HeraldOptions): Promise<HeraldSystem> {
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const env = heraldEnv({
    PORT: String(port),
    DATA_DIR: o.dataDir,
    TEMPORAL_ADDRESS: o.temporalAddress,
    TEMPORAL_TASK_QUEUE: o.taskQueue,
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
    // An experiment aid: Herald settings to try, e.g. "WORKER_MAX_CACHED_WORKFLOWS=300 WORKER_WORKFLOW_WATCHDOG=true".
    ...Object.fromEntries((process.env.BENCH_HERALD_ENV ?? '').split(' ').filter(Boolean).map(settingOf)),
  });
  // A profiling aid for Herald's processes only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.BENCH_HERALD_NODE_ARGS?.split(' ').filter(Boolean);
  const spawnOptions = { cwd: o.repoRoot, logDir: o.logDir, nodeArgs };
  const children: Child[] = [];

  let processes: { role: string; pid: number }[];
  if (o.db === 'pglite') {
    const main = spawnNodeEntry('herald-pglite', 'src/main.ts', { ...spawnOptions, env });
    children.push(main);
    await waitForApi(apiUrl);
    processes = [{ role: 'api+worker', pid: main.pid }];
  } else {
    if (!o.databaseUrl || !o.workflowBundle || !o.compiledDir) throw new Error('Herald on PostgreSQL needs a database URL, a workflow bundle and the compiled code');
    // The API first: it applies the migrations, and the worker then opens a database that is ready.
    const productionEnv = { ...env, ...(o.jemalloc ? { LD_PRELOAD: o.jemalloc } : {}) };
    const api = spawnNodeEntry('herald-postgres-api', path.join(o.compiledDir, 'src', 'api-main.js'), { ...spawnOptions, env: productionEnv });
    children.push(api);
    await waitForApi(apiUrl);
    const worker = spawnNodeEntry('herald-postgres-worker', path.join(o.compiledDir, 'src', 'worker-main.js'), {
      ...spawnOptions,
      env: { ...productionEnv, WORKFLOW_BUNDLE_PATH: o.workflowBundle },
    });
    children.push(worker);
    processes = [
      { role: 'api', pid: api.pid },
      { role: 'worker', pid: worker.pid },
    ];
  }
  await waitForPollers(o.client, o.taskQueue, 300_000, assertChildrenAlive);

  const post = async (urlPath: string, body: unknown, headers: Record<string, string> = {}) => {
    const { status, text } = await postJson(apiUrl + urlPath, body, headers).catch((err: Error & { code?: string }) => {
      throw new Error(`POST ${urlPath}: ${err.message}${err.code ? ` (${err.code})` : ''}`);
    });
    if (status >= 300) throw new Error(`POST ${urlPath} answered HTTP ${status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const recipients = new Recipients((userId) => post(`/v1/users/${userId}/webhooks`, { url: `${o.sinkUrl}/herald/${userId}` }));

  return {
    name: 'Herald',
    apiUrl,
    prepare: (n) => recipients.prepare(n),
    async create(key, dueAt, slot) {
      const body = {
        userId: slot === undefined ? OPEN_LOOP_USER : recipients.userFor(slot),
        channels: ['webhook'],
        scheduledAt: new Date(dueAt).toISOString(),
        content: { body: 'bench' },
      };
      const { id } = await post('/v1/notifications', body, { 'Idempotency-Key': key });
      if (typeof id !== 'string') throw new Error('POST /v1/notifications answered without an id');
      return id;
    },
    // Herald names each notification's workflow after the notification.
    workflowId: (id) => id,
    openRuns: () => countOpenRuns(o.client, o.taskQueue),
    async discard(ids) {
      await terminateWorkflows(o.client, ids);
    },
    processes: () => processes,
    async stop() {
      // The worker first, so the API is not asked for anything while the worker drains.
      for (const child of [...children].reverse()) await child.stop(25_000);
    },
  };
}

/**
 * Recipients with one webhook each. Herald's throttle (on, at its defaults) gives each user a bucket
 * of tokens; a user is handed at most 10 notifications per burst and is reused in later bursts while
 * its bucket still has room. Refill is not counted, so the estimate only errs on the safe side.
 */
class Recipients {
  private readonly users: { id: string; tokens: number }[] = [];
  private assigned: string[] = [];
  private readonly tokensPerUser: number;
  private readonly perBurst: number;

  constructor(private readonly register: (userId: string) => Promise<unknown>) {
    const { burst, perHour } = loadConfig({}).policy.throttle;
    const throttled = burst > 0 && perHour > 0;
    this.tokensPerUser = throttled ? burst : Infinity;
    this.perBurst = throttled ? Math.min(MAX_PER_USER_PER_BURST, burst) : MAX_PER_USER_PER_BURST;
  }

  async prepare(n: number): Promise<void> {
    const assigned: string[] = [];
    const fresh: string[] = [];
    const give = (user: { id: string; tokens: number }) => {
      const take = Math.min(this.perBurst, user.tokens, n - assigned.length);
      for (let i = 0; i < take; i++) assigned.push(user.id);
      user.tokens -= take;
    };
    for (const user of this.users) {
      if (assigned.length >= n) break;
      give(user);
    }
    while (assigned.length < n) {
      const user = { id: `bench-u${this.users.length}`, tokens: this.tokensPerUser };
      this.users.push(user);
      fresh.push(user.id);
      give(user);
    }
    await mapLimit(fresh, 10, (userId) => this.register(userId));
    // Round-robin over users, so no user's notifications all come first.
    this.assigned = interleave(assigned);
  }

  userFor(slot: number): string {
    const user = this.assigned[slot];
    if (!user) throw new Error(`no recipient prepared for slot ${slot}`);
    return user;
  }
}

function interleave(userIds: string[]): string[] {
  const byUser = new Map<string, number>();
  for (const id of userIds) byUser.set(id, (byUser.get(id) ?? 0) + 1);
  const out: string[] = [];
  for (let round = 0; out.length < userIds.length; round++) {
    for (const [id, count] of byUser) if (count > round) out.push(id);
  }
  return out;
}
