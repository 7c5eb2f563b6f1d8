// Regenerates the replay fixtures in test/fixtures/histories: drives one notification through each
// lifecycle path on a fresh dev server, then exports its closed workflow with the temporal CLI.
//
//   npx tsx scripts/export-replay-histories.ts
//
// Fixtures go to test/fixtures/histories/<version>/, the version of the workflow type the API starts.
// Run it only after an intentional workflow change (guarded with patched(), or a new workflow type);
// keep every earlier version's files as they were recorded, so sleeping runs of every version replay.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { resolveTemporalBinary } from '../src/temporal/binary';
import globalSetup from '../test/setup/global-setup';
import globalTeardown from '../test/setup/global-teardown';
import { eventually } from '../test/setup/http';
import { client, createFailed, FAILED_REDRIVEN_DELIVERED, inSeconds, statusesOf } from '../test/setup/scenario';
import { startTestStack, type TestStack } from '../test/setup/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../test/setup/webhook-receiver';

/** The workflow version new notifications start with: `notificationWorkflowV7`. */
const CURRENT_VERSION = 'v7';
const OUT_DIR = path.resolve(__dirname, '..', 'test', 'fixtures', 'histories', CURRENT_VERSION);

type Api = ReturnType<typeof client>;
type Detail = Awaited<ReturnType<Api['waitFor']>>;

function expectPath(name: string, detail: Detail, expected: string[]) {
  const actual = statusesOf(detail);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${name}: expected ${expected.join(' → ')}, got ${actual.join(' → ')}`);
  }
}

const webhook = (userId: string, extra: Record<string, unknown> = {}) => ({
  userId,
  channels: ['webhook'],
  content: { title: 'Replay fixture', body: `hello ${userId}` },
  ...extra,
});

/** Each scenario returns the id of the workflow whose history becomes `<name>.json`. */
const SCENARIOS: Record<string, (api: Api, stack: TestStack, receiver: WebhookReceiver) => Promise<string>> = {
  async delivered(api) {
    const created = await api.create(webhook('replay-delivered', { scheduledAt: inSeconds(1) }), 'replay-delivered');
    expectPath('delivered', await api.waitFor(created.body.id, 'DELIVERED'), ['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
    return created.body.id;
  },

  // Its start delay ends START_DELAY_FROM (2 s here) before its due time; it sleeps the rest on a timer.
  async 'delivered-after-start-delay'(api) {
    const created = await api.create(webhook('replay-delivered-after-start-delay', { scheduledAt: inSeconds(5) }), 'replay-delivered-after-start-delay');
    expectPath('delivered-after-start-delay', await api.waitFor(created.body.id, 'DELIVERED'), ['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
    return created.body.id;
  },

  async cancelled(api) {
    const created = await api.create(webhook('replay-cancelled', { scheduledAt: inSeconds(3600) }), 'replay-cancelled');
    const cancelled = await api.cancel(created.body.id);
    expectPath('cancelled', cancelled.body, ['SCHEDULED(accepted)', 'CANCELLED(requested)']);
    return created.body.id;
  },

  async replaced(api) {
    const older = await api.create(webhook('replay-replaced', { scheduledAt: inSeconds(3600), collapseKey: 'bedtime' }), 'replay-replaced-older');
    const newer = await api.create(webhook('replay-replaced', { scheduledAt: inSeconds(3600), collapseKey: 'bedtime' }), 'replay-replaced-newer');
    const old = await api.waitFor(older.body.id, 'CANCELLED');
    expectPath('replaced', old, ['SCHEDULED(accepted)', 'CANCELLED(replaced)']);
    if (old.replacedBy !== newer.body.id) throw new Error(`replaced: replacedBy is ${old.replacedBy}, expected ${newer.body.id}`);
    await api.cancel(newer.body.id); // not exported; just leave nothing running
    return older.body.id;
  },

  async changed(api) {
    const created = await api.create(webhook('replay-changed', { scheduledAt: inSeconds(3600) }), 'replay-changed');
    await api.patch(created.body.id, { content: { title: 'Changed', body: 'new text' } });
    await api.patch(created.body.id, { scheduledAt: inSeconds(1) });
    const detail = await api.waitFor(created.body.id, 'DELIVERED');
    expectPath('changed', detail, ['SCHEDULED(accepted)', 'SCHEDULED(replaced_content)', 'SCHEDULED(rescheduled)', 'SENDING', 'DELIVERED']);
    return created.body.id;
  },

  async deferred(api) {
    await api.put('/v1/types/replay-held', { deliveryEnabled: false });
    const created = await api.create(webhook('replay-deferred', { type: 'replay-held' }), 'replay-deferred');
    await api.waitFor(created.body.id, 'DEFERRED');
    // A few DELIVERY_OFF_RECHECK wake-ups while held, so the fixture covers the re-check loop.
    await new Promise((r) => setTimeout(r, 2500));
    await api.put('/v1/types/replay-held', { deliveryEnabled: true });
    const detail = await api.waitFor(created.body.id, 'DELIVERED');
    expectPath('deferred', detail, ['SCHEDULED(accepted)', 'DEFERRED(delivery_off)', 'SENDING', 'DELIVERED']);
    return created.body.id;
  },

  async 'deferred-changed'(api) {
    await api.put('/v1/types/replay-held-2', { deliveryEnabled: false });
    const created = await api.create(webhook('replay-deferred-changed', { type: 'replay-held-2' }), 'replay-deferred-changed');
    await api.waitFor(created.body.id, 'DEFERRED');
    await api.patch(created.body.id, { content: { title: 'Changed while held', body: 'new text' } });
    await api.put('/v1/types/replay-held-2', { deliveryEnabled: true });
    const detail = await api.waitFor(created.body.id, 'DELIVERED');
    expectPath('deferred-changed', detail, ['SCHEDULED(accepted)', 'DEFERRED(delivery_off)', 'DEFERRED(delivery_off)', 'SENDING', 'DELIVERED']);
    return created.body.id;
  },

  async 'workflow-cancelled'(api, stack) {
    const created = await api.create(webhook('replay-workflow-cancelled', { scheduledAt: inSeconds(3600) }), 'replay-workflow-cancelled');
    await stack.temporal.client.workflow.getHandle(created.body.id).cancel();
    expectPath('workflow-cancelled', await api.waitFor(created.body.id, 'CANCELLED'), ['SCHEDULED(accepted)', 'CANCELLED(requested)']);
    return created.body.id;
  },

  async failed(api) {
    // A recipient with no webhook registered: nothing can be delivered, which ends FAILED at once.
    const created = await api.create(webhook('replay-no-target'), 'replay-failed');
    expectPath('failed', await api.waitFor(created.body.id, 'FAILED'), ['SCHEDULED(accepted)', 'SENDING', 'FAILED(no_deliverable_target)']);
    return created.body.id;
  },

  async redriven(api, _stack, receiver) {
    // Fails after its two attempts (RETRY_WEBHOOK_MAX_ATTEMPTS below), then an operator redrives it:
    // the fixture is the redriven run, which starts from SCHEDULED(redriven) with its sequence carried on.
    const id = await createFailed(api, receiver, webhook('replay-redriven'), 'replay-redriven');
    await api.post(`/v1/notifications/${id}/redrive`, { reason: 'replay fixture' });
    expectPath('redriven', await api.waitFor(id, 'DELIVERED'), FAILED_REDRIVEN_DELIVERED);
    return id;
  },

  /** Not a notification: the history of a bulk discard of dead letters (deadLetterBatchWorkflow). */
  async 'dead-letter-batch'(api, _stack, receiver) {
    await createFailed(api, receiver, webhook('replay-dead-letter-batch', { type: 'replay-batch' }), 'replay-dead-letter-batch');
    const started = await api.post('/v1/dlq:discard', { filter: { type: 'replay-batch' }, reason: 'replay fixture', confirm: true });
    const operationId = started.body.operationId as string;
    const done = await eventually(
      () => api.read(`/v1/dlq/operations/${operationId}`),
      (r) => r.body?.state === 'completed',
      { what: `operation ${operationId} to complete` },
    );
    if (done.body.done !== 1) throw new Error(`dead-letter-batch: expected 1 discarded, got ${JSON.stringify(done.body)}`);
    return operationId;
  },

  async retried(api, _stack, receiver) {
    // The first attempt (made by the due-time activity) fails; the channel's policy goes on with a send activity.
    receiver.respondWith({ status: 503 });
    const created = await api.create(webhook('replay-retried'), 'replay-retried');
    expectPath('retried', await api.waitFor(created.body.id, 'DELIVERED'), ['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
    return created.body.id;
  },

  async 'fanned-out'(api, _stack, receiver) {
    // Two targets: one send activity each, and the outcome recorded by the workflow.
    await api.registerWebhook('replay-fanned-out', `${receiver.url}/replay-fanned-out-2`);
    const created = await api.create(webhook('replay-fanned-out'), 'replay-fanned-out');
    const detail = await api.waitFor(created.body.id, 'DELIVERED');
    expectPath('fanned-out', detail, ['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']);
    if (detail.attempts.length !== 2) throw new Error(`fanned-out: expected 2 attempts, got ${detail.attempts.length}`);
    return created.body.id;
  },

  async expired(api) {
    await api.put('/v1/types/replay-held-3', { deliveryEnabled: false });
    const created = await api.create(webhook('replay-expired', { type: 'replay-held-3', expiresAt: inSeconds(2) }), 'replay-expired');
    expectPath('expired', await api.waitFor(created.body.id, 'EXPIRED'), ['SCHEDULED(accepted)', 'DEFERRED(delivery_off)', 'EXPIRED(expired)']);
    return created.body.id;
  },
};

async function main() {
  await globalSetup(); // a fresh in-memory dev server and the workflow bundle, as the test suite uses
  const temporal = resolveTemporalBinary(process.env.TEMPORAL_CLI_PATH);
  const address = process.env.TEST_TEMPORAL_ADDRESS!;
  const receiver = await startWebhookReceiver();
  const stack = await startTestStack({
    env: { DELIVERY_OFF_RECHECK: '1s', THROTTLE_BURST: '0', RETRY_WEBHOOK_INITIAL_INTERVAL: '100ms', RETRY_WEBHOOK_MAX_ATTEMPTS: '2', START_DELAY_FROM: '2s' },
  });
  try {
    const api = client(stack);
    fs.mkdirSync(OUT_DIR, { recursive: true });
    // `npx tsx scripts/export-replay-histories.ts changed` exports just the named scenarios: fixtures of
    // earlier workflow versions must stay as they were recorded.
    const wanted = process.argv.slice(2);
    for (const [name, run] of Object.entries(SCENARIOS).filter(([n]) => wanted.length === 0 || wanted.includes(n))) {
      const userId = `replay-${name}`;
      await api.registerWebhook(userId, `${receiver.url}/${userId}`);
      const workflowId = await run(api, stack, receiver);
      // Export closed runs only (a run cancelled through Temporal closes with an error).
      await stack.temporal.client.workflow.getHandle(workflowId).result().catch(() => undefined);
      const json = execFileSync(
        temporal,
        ['workflow', 'show', '-w', workflowId, '-o', 'json', '--address', address, '--namespace', 'default'],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      const events = (JSON.parse(json) as { events: unknown[] }).events.length;
      const file = path.join(OUT_DIR, `${name}.json`);
      fs.writeFileSync(file, json.endsWith('\n') ? json : `${json}\n`);
      console.log(`wrote ${path.relative(process.cwd(), file)} (${workflowId}, ${events} events)`);
    }
  } finally {
    await stack.stop();
    await receiver.close();
    await globalTeardown();
    fs.rmSync(path.dirname(process.env.TEST_WORKFLOW_BUNDLE!), { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
