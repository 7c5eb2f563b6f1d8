import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Histogram } from 'prom-client';
import { createMetrics } from '../../src/metrics';
import type { Database } from '../../src/db';
import type { NotificationInput } from '../../workflows/definitions';
import { call, eventually } from '../setup/http';
import { freePort } from '../setup/net';
import { parseExposition } from '../setup/prometheus';

/*
 * In production the worker runs on its own (`node dist/src/worker-main.js`): Prometheus scrapes
 * Herald's metrics on its metrics port and the Temporal SDK's through the SDK's own exporter. The
 * dashboard and the alert rules may only name metrics that one of the two really exports.
 */
const ROOT = path.resolve(__dirname, '..', '..');

describe('a worker process on its own', () => {
  let worker: ChildProcess;
  let dataDir: string;
  let heraldPort: number;
  let sdkPort: number;
  let connection: Connection;
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const workflowId = `worker-metrics-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    [heraldPort, sdkPort] = [await freePort(), await freePort()];
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-worker-'));
    worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker-main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKFLOW_BUNDLE_PATH: process.env.TEST_WORKFLOW_BUNDLE,
        WORKER_METRICS_PORT: String(heraldPort),
        TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${sdkPort}`,
      },
    });
    await eventually(
      () => call(`http://127.0.0.1:${heraldPort}`, 'GET', '/metrics').catch(() => ({ status: 0 })),
      (r) => r.status === 200,
      { what: 'the worker to serve /metrics', timeoutMs: 60_000 },
    );
    // One workflow task and one activity task, so the SDK has task latencies to export: a notification
    // whose row does not exist (its due-time activity fails and is retried until terminated below).
    connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
    await new Client({ connection }).workflow.start('notificationWorkflowV5', {
      taskQueue,
      workflowId,
      args: [
        {
          notificationId: workflowId,
          idempotencyKey: workflowId,
          requestFingerprint: 'x',
          userId: 'nobody',
          type: 'metrics',
          category: 'metrics',
          channels: ['webhook'],
          routing: 'all',
          content: { body: 'x' },
          scheduledAt: new Date().toISOString(),
        } satisfies NotificationInput,
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await new Client({ connection }).workflow.getHandle(workflowId).terminate('test over').catch(() => undefined);
    await connection?.close();
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const scrape = async (port: number) => {
    const response = await call(`http://127.0.0.1:${port}`, 'GET', '/metrics');
    expect(response.status).toBe(200);
    return response.body as string;
  };
  /** Metric family names in an exposition: `# TYPE name kind`, a histogram also as name_bucket/_sum/_count. */
  const families = (text: string) =>
    [...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, name, kind]) => (kind === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]));

  test("serves Herald's worker metrics on its metrics port", async () => {
    const text = await scrape(heraldPort);
    for (const name of ['herald_send_attempts_total', 'herald_transitions_total', 'herald_send_lateness_seconds', 'herald_process_resident_memory_bytes']) {
      expect(families(text)).toContain(name);
    }
  });

  test("serves the Temporal SDK's worker metrics through the SDK's Prometheus exporter", async () => {
    const text = await eventually(
      () => scrape(sdkPort),
      (t) => /^temporal_activity_schedule_to_start_latency_seconds_bucket/m.test(t),
      { what: 'the SDK to export an activity task latency', timeoutMs: 30_000, show: (t) => families(t).join(' ') },
    );
    const samples = parseExposition(text);
    expect(samples.some((s) => s.name === 'temporal_workflow_task_schedule_to_start_latency_seconds_bucket' && s.labels.task_queue === taskQueue)).toBe(true);
  });

  test('every metric the dashboard and the alert rules use is exported by Herald or the SDK', async () => {
    const herald = createMetrics();
    herald.watchDatabase({} as Database);
    const exported = new Set([
      ...herald.registry.getMetricsAsArray().flatMap((m) => (m instanceof Histogram ? [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name])),
      ...families(await scrape(sdkPort)),
    ]);
    const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy/grafana/dashboards/herald.json'), 'utf8'));
    const queries: string[] = dashboard.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr));
    const rules = fs.readFileSync(path.join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8');
    const used = new Set([...queries.join('\n').matchAll(/\b(herald_\w+|temporal_\w+)/g), ...rules.matchAll(/\b(herald_\w+|temporal_\w+)/g)].map((m) => m[1]));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });
});
