import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { createLogger } from '../../src/logger';
import { installTemporalRuntime } from '../../src/temporal/logging';

/*
 * Replays every committed workflow history against the current workflow code, so a change that
 * would break notifications already sleeping in production fails the build.
 *
 * The fixtures in test/fixtures/histories are exported from real runs with the temporal CLI by
 *   npx tsx scripts/export-replay-histories.ts
 * Regenerate only for an intentional workflow change that is guarded with patched(): keep the old
 * fixtures (rename them, e.g. delivered-v1.json) and add the new ones next to them, so runs started
 * by every version still replay. A failure here after an unguarded change is the test doing its job.
 */
const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'histories');
/** `v1/delivered.json`, …: one folder per workflow version, each still replayed by the current code. */
const fixtures = fs
  .readdirSync(FIXTURES)
  .flatMap((version) => fs.readdirSync(path.join(FIXTURES, version)).map((f) => `${version}/${f}`))
  .filter((f) => f.endsWith('.json'))
  .sort();
const load = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));
const workflowBundle = () => ({ codePath: process.env.TEST_WORKFLOW_BUNDLE! });

describe('replaying committed workflow histories', () => {
  beforeAll(() => installTemporalRuntime(createLogger(process.env.TEST_LOG_LEVEL ?? 'error', 'test')));

  test('every lifecycle path has a fixture, for runs started by every workflow version', () => {
    const paths = ['cancelled', 'changed', 'deferred', 'delivered', 'replaced'];
    expect(fixtures).toEqual(expect.arrayContaining(paths.map((p) => `v1/${p}.json`)));
    for (const version of ['v2', 'v3', 'v4', 'v5', 'v6', 'v7']) {
      expect(fixtures).toEqual(
        expect.arrayContaining([...paths, 'deferred-changed', 'workflow-cancelled', 'failed', 'expired'].map((p) => `${version}/${p}.json`)),
      );
    }
    // Redrive came with V3: a new run under the id of a FAILED one, resuming its sequence.
    expect(fixtures).toEqual(expect.arrayContaining(['v3/redriven.json', 'v4/redriven.json', 'v5/redriven.json']));
    // V4 makes a single target's first attempt in its due-time activity; a failed one goes on in a
    // send activity, and several targets get one send activity each.
    expect(fixtures).toEqual(expect.arrayContaining(['v4/retried.json', 'v4/fanned-out.json']));
    // V5 runs the same sends on each channel's own task queue.
    expect(fixtures).toEqual(expect.arrayContaining(['v5/retried.json', 'v5/fanned-out.json']));
    // V6 starts with a start delay (until the due time, or until START_DELAY_FROM before it) and waits on a timer only for a due time still ahead.
    expect(fixtures).toEqual(expect.arrayContaining(['v6/retried.json', 'v6/fanned-out.json', 'v6/redriven.json', 'v6/delivered-after-start-delay.json']));
    // V7 runs the due-time activity as a local activity: a first attempt that delivers closes the run in the wake-up's workflow task.
    expect(fixtures).toEqual(expect.arrayContaining(['v7/retried.json', 'v7/fanned-out.json', 'v7/redriven.json', 'v7/delivered-after-start-delay.json']));
    // Not a notification: the bulk dead-letter operation's own workflow.
    expect(fixtures).toContain('v3/dead-letter-batch.json');
  });

  test('every history replays against the current workflow code', async () => {
    const histories = fixtures.map((file) => ({ workflowId: file, history: load(file) }));
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle() }, histories)) {
      results.push({ fixture: result.workflowId, error: result.error?.message });
    }
    expect(results).toEqual(fixtures.map((fixture) => ({ fixture, error: undefined })));
  });

  test('the replay check can fail: a workflow that calls a different activity first is refused', async () => {
    // A stand-in for an unguarded change before the first sleep: it schedules evaluateDueChecks where
    // the first version's history starts with recordAccepted and the later ones' with their sleep timer.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-changed-workflow-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'workflows.js'),
        `const { proxyActivities } = require('@temporalio/workflow');
         const { evaluateDueChecks } = proxyActivities({ startToCloseTimeout: '30s' });
         exports.notificationWorkflow = async (input) => {
           await evaluateDueChecks({ notificationId: input.notificationId });
           return { status: 'DELIVERED', targets: [] };
         };
         exports.notificationWorkflowV2 = exports.notificationWorkflow;
         exports.notificationWorkflowV3 = exports.notificationWorkflow;
         exports.notificationWorkflowV4 = exports.notificationWorkflow;
         exports.notificationWorkflowV5 = exports.notificationWorkflow;
         exports.notificationWorkflowV6 = exports.notificationWorkflow;`,
      );
      const { code } = await bundleWorkflowCode({
        workflowsPath: path.join(dir, 'workflows.js'),
        // The temp dir has no node_modules of its own: resolve @temporalio/workflow from this project.
        webpackConfigHook: (config) => ({
          ...config,
          resolve: { ...config.resolve, modules: [...(config.resolve?.modules ?? []), path.resolve(__dirname, '..', '..', 'node_modules')] },
        }),
        logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error },
      });
      for (const fixture of ['v1/delivered.json', 'v2/delivered.json', 'v3/delivered.json', 'v4/delivered.json', 'v5/delivered.json', 'v6/delivered.json']) {
        const replay = Worker.runReplayHistory({ workflowBundle: { code } }, load(fixture), fixture);
        const error = await replay.then(() => undefined, (err: unknown) => err);
        expect(error).toBeInstanceOf(DeterminismViolationError);
        expect((error as Error).message).toMatch(/nondeterminism/i);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
