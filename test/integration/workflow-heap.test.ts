// An operator may bound the workflow thread's V8 heap (WORKER_WORKFLOW_HEAP_MB), so that it does not
// keep the garbage of every workflow it evicted; unset, it is unbounded, because a thread that outgrows
// its bound stops the worker. The bound reaches the thread through our patch of the SDK, so it is
// checked from outside a real process: Node's diagnostic report lists every thread's heap limit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../setup/http';
import { startIsolatedService } from '../setup/service';

const MiB = 1024 * 1024;
/** V8 adds the young generation (semi-spaces) to the old-generation bound it is given. */
const YOUNG_GENERATION_ALLOWANCE = 64 * MiB;

interface DiagnosticReport {
  workers: Array<{ javascriptHeap: { memoryLimit: number } }>;
}

/**
 * Starts a real Herald, asks it for node's diagnostic report the way an operator would (SIGUSR2,
 * `--report-on-signal`), and hands the report and the running service to `inspect`.
 */
async function withDiagnosticReport<T>(
  extraEnv: Record<string, string>,
  inspect: (report: DiagnosticReport, service: { port: number }) => Promise<T>,
): Promise<T> {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-report-'));
  const reportFile = path.join(reportDir, 'report.json');
  const service = await startIsolatedService({
    ...extraEnv,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --report-on-signal --report-directory=${reportDir} --report-filename=report.json`.trim(),
  });
  try {
    process.kill(service.pid, 'SIGUSR2');
    // Read until it parses: the report may be seen while it is still being written.
    const report = await eventually(
      async () => {
        try {
          return JSON.parse(fs.readFileSync(reportFile, 'utf8')) as DiagnosticReport;
        } catch {
          return undefined;
        }
      },
      (parsed) => parsed !== undefined,
      { what: 'the diagnostic report', timeoutMs: 20_000 },
    );
    return await inspect(report!, service);
  } finally {
    await service.stop();
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}

/** The heap limits of the JavaScript threads (not the main one) of a running Herald. */
const threadHeapLimits = (extraEnv: Record<string, string>) =>
  withDiagnosticReport(extraEnv, async (report) => report.workers.map((w) => w.javascriptHeap.memoryLimit));

const boundedAt = (limits: number[], mb: number) => limits.some((limit) => limit >= mb * MiB && limit <= mb * MiB + YOUNG_GENERATION_ALLOWANCE);

describe('the workflow thread heap', () => {
  it('is bounded at WORKER_WORKFLOW_HEAP_MB', async () => {
    const limits = await threadHeapLimits({ WORKER_WORKFLOW_HEAP_MB: '96' });
    expect(boundedAt(limits, 96)).toBe(true);
  });

  it('is not bounded by default: no thread is limited to less than 1 GB', async () => {
    const limits = await threadHeapLimits({});
    expect(limits.length).toBeGreaterThan(0);
    expect(limits.filter((limit) => limit < 1024 * MiB)).toEqual([]);
  });
});

describe('a diagnostic report', () => {
  // The SDK's default shutdown signals include SIGUSR2, node's report signal: asking a worker for its
  // report used to stop it (cleanly, exit code 0), which an operator would only notice afterwards.
  it('leaves Herald running', async () => {
    const readiness = await withDiagnosticReport({}, async (_report, { port }) => {
      const answers: Array<number | string> = [];
      // A worker that shuts down is gone within a second or two (nothing is in flight).
      for (let i = 0; i < 10; i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        answers.push(
          await fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.status,
            (err: Error) => err.message,
          ),
        );
      }
      return answers;
    });
    expect(readiness).toEqual(Array(10).fill(200));
  });
});
