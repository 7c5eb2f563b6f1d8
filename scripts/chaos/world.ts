// What the chaos scenarios break: a Temporal dev server that can be killed and started again on the
// same SQLite file, and Herald as in production (API and worker apart) on a scratch PostgreSQL
// database reached through a proxy that can cut it. Each part is a child process or a socket of
// this script, on 127.0.0.1 only.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from '../../src/logger';
import { resolveTemporalBinary } from '../../src/temporal/binary';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { startTcpProxy, type TcpProxy } from '../../test/setup/tcp-proxy';
import { temporal } from '@temporalio/proto';
import { assertChildrenAlive, type Child, spawnNodeEntry } from '../bench/children';
import { killOnExit, onCleanup } from '../bench/cleanup';
import { heraldEnv, waitForApi } from '../bench/herald';
import { freePort } from '../bench/ports';
import { createScratchDatabase } from '../bench/postgres';
import { waitUntil } from '../bench/timing';
import { Api } from './api';

export const NAMESPACE = 'default';

/** The Temporal dev server, on a fixed port and SQLite file so that it can come back as it was. */
export class Temporal {
  private server?: DevServer;
  private forget?: () => void;
  client!: Client;

  private constructor(
    readonly port: number,
    private readonly dbFile: string,
    private readonly log: Logger,
  ) {}

  static async open(dir: string, log: Logger): Promise<Temporal> {
    const t = new Temporal(await freePort(), path.join(dir, 'temporal.sqlite'), log);
    await t.start();
    const connection = await Connection.connect({ address: t.address, connectTimeout: 10_000 });
    onCleanup('close the temporal client', () => connection.close());
    t.client = new Client({ connection, namespace: NAMESPACE });
    onCleanup('stop the temporal dev server', () => t.stop());
    return t;
  }

  get address() {
    return `127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.server?.process.pid;
  }

  async start(): Promise<void> {
    this.server = await startDevServer({ binary: resolveTemporalBinary(), port: this.port, uiPort: null, dbFile: this.dbFile, namespace: NAMESPACE, log: this.log });
    this.forget = killOnExit(this.server.process.pid!);
  }

  /** As a crash would: SIGKILL, nothing flushed beyond what SQLite already has. */
  async kill(): Promise<void> {
    const proc = this.server?.process;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    this.forget?.();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.forget?.();
  }
}

export interface HeraldOptions {
  temporal: Temporal;
  runDir: string;
  logDir: string;
  repoRoot: string;
  workflowBundle: string;
  /** Names the task queue, the processes' logs and the data dir. */
  name: string;
  /** Herald settings for both processes. */
  env?: Record<string, string>;
}

/**
 * Herald's API and worker as separate processes (as in production) on a scratch PostgreSQL
 * database, which both reach through `database`, a proxy a scenario can cut. Either process can be
 * killed and started again.
 */
export class Herald {
  api!: Child;
  worker?: Child;
  readonly client: Api;
  private restarts = 0;

  private constructor(
    private readonly o: HeraldOptions,
    readonly database: TcpProxy,
    private readonly databaseUrl: string,
    private readonly port: number,
  ) {
    this.client = new Api(`http://127.0.0.1:${port}`);
  }

  static async start(o: HeraldOptions): Promise<Herald> {
    const scratch = new URL((await createScratchDatabase(o.repoRoot)).url);
    const database = await startTcpProxy({ host: scratch.hostname, port: Number(scratch.port) });
    onCleanup(`close the database proxy of ${o.name}`, () => database.close());
    const viaProxy = Object.assign(new URL(scratch), { host: database.address }).toString();
    const herald = new Herald(o, database, viaProxy, await freePort());
    await herald.startApi();
    await herald.startWorker();
    return herald;
  }

  get taskQueue() {
    return `chaos-${this.o.name}`;
  }

  private env(extra: Record<string, string> = {}) {
    return heraldEnv({
      PORT: String(this.port),
      DATA_DIR: path.join(this.o.runDir, this.o.name),
      DATABASE_URL: this.databaseUrl,
      TEMPORAL_ADDRESS: this.o.temporal.address,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      WORKFLOW_BUNDLE_PATH: this.o.workflowBundle,
      // Several workers may run in one scenario's life; none needs the metrics port.
      WORKER_METRICS_PORT: '0',
      // Every recipient gets many notifications at once here: no throttle deferrals in the figures.
      THROTTLE_BURST: '0',
      ...this.o.env,
      ...extra,
    });
  }

  private spawn(role: 'api' | 'worker', extra?: Record<string, string>): Child {
    const entry = role === 'api' ? 'src/api-main.ts' : 'src/worker-main.ts';
    return spawnNodeEntry(`${this.o.name}-${role}-${++this.restarts}`, entry, { cwd: this.o.repoRoot, env: this.env(extra), logDir: this.o.logDir });
  }

  /** The API (it applies the migrations) and waits until it is ready; `extra` settings for this start only. */
  async startApi(extra?: Record<string, string>): Promise<void> {
    this.api = this.spawn('api', extra);
    await waitForApi(this.client.url);
  }

  /** Starts a worker and waits until it polls (a killed one stays listed among the pollers for a while). */
  async startWorker(): Promise<void> {
    const worker = this.spawn('worker');
    this.worker = worker;
    await waitUntil(
      `worker pid ${worker.pid} to poll ${this.taskQueue}`,
      async () => {
        assertChildrenAlive();
        const { pollers } = await this.o.temporal.client.workflowService.describeTaskQueue({
          namespace: NAMESPACE,
          taskQueue: { name: this.taskQueue },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        // The SDK names a worker `<pid>@<host>`.
        return pollers?.some((p) => p.identity?.startsWith(`${worker.pid}@`)) ? true : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 500 },
    );
  }

  async killWorker(): Promise<void> {
    await this.worker?.kill();
    this.worker = undefined;
  }

  async stop(): Promise<void> {
    await this.worker?.stop(25_000);
    await this.api.stop(10_000);
    await this.database.close();
  }
}
