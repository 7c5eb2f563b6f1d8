import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { NotificationSummaryKey } from '../../workflows/definitions';
import { eventually } from '../setup/http';
import { freePort } from '../setup/net';
import { client, inSeconds, webhookWorld } from '../setup/scenario';
import { startService } from '../setup/service';

/*
 * An operator who opens a notification in the Temporal UI reads what it is and why it waits without
 * decoding its input: the run's summary and details, its execution time (when its start delay ends), the summary of the timer it sleeps on once woken, and its current details. These are the data the UI shows, read through the same APIs the UI calls.
 */
describe('the Temporal UI explains each notification', () => {
  const UI = 'http://127.0.0.1:8233';
  const START_DELAY_FROM_MS = 10 * 60_000;
  const w = webhookWorld('ui', { env: { TEMPORAL_UI_URL: `${UI}/`, START_DELAY_FROM: '10m' } });

  const handle = (id: string) => w.stack.temporal.client.workflow.getHandle(id);
  const decode = (payload: temporal.api.common.v1.IPayload | null | undefined) => (payload ? defaultPayloadConverter.fromPayload<string>(payload) : undefined);
  /** The summaries of the timers the run has started, oldest first. */
  async function timerSummaries(id: string): Promise<Array<string | undefined>> {
    const history = await handle(id).fetchHistory();
    return (history.events ?? []).filter((e) => e.timerStartedEventAttributes).map((e) => decode(e.userMetadata?.summary));
  }
  /** What the UI's "current details" shows: the SDK's built-in metadata query. */
  async function currentDetails(id: string): Promise<string> {
    const metadata = await handle(id).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    return metadata.currentDetails ?? '';
  }

  test('a sleeping notification: summary, details, start time, then timer and current details once woken; the API links to the run', async () => {
    const userId = await w.recipient();
    const scheduledAt = inSeconds(3600);
    const created = await w.api.create({ userId, type: 'bedtime', category: 'coaching', channels: ['webhook'], content: { title: 'Time to sleep', body: 'private words' }, scheduledAt });
    expect(created.status).toBe(202);
    const id = created.body.id;

    const description = await handle(id).describe();
    expect(await description.staticSummary()).toBe(`webhook → ${userId} · bedtime: "Time to sleep"`);
    const details = await description.staticDetails();
    expect(details).toContain(`\`${id}\``);
    expect(details).toContain(`category \`coaching\``);
    expect(details).toContain(`**Due** ${created.body.scheduledAt}`);
    // The body is the recipient's business, not the operator's list view.
    expect(`${await description.staticSummary()}${details}`).not.toContain('private words');
    // Until START_DELAY_FROM before its due time the run waits on its start delay: that is the UI's "Execution Time", and no code has run.
    expect(Math.abs(description.executionTime!.getTime() - (Date.parse(scheduledAt) - START_DELAY_FROM_MS))).toBeLessThan(2000);
    expect(await timerSummaries(id)).toEqual([]);
    // The API still explains it live, although the run cannot answer a query before it has run any code.
    expect((await w.api.get(id)).body.live).toMatchObject({ phase: 'SCHEDULED', reason: 'accepted', nextWakeAt: new Date(scheduledAt).toISOString() });

    // Woken before its due time (here by a change of content), it sleeps on a timer that says what it waits for.
    expect((await w.api.patch(id, { content: { title: 'Time to sleep', body: 'other private words' } })).status).toBe(200);
    await eventually(() => timerSummaries(id), (t) => t.length === 1, { what: 'the sleep timer' });
    expect(await timerSummaries(id)).toEqual([`until ${new Date(scheduledAt).toISOString()} (scheduledAt)`]);
    expect(await currentDetails(id)).toBe(
      `**SCHEDULED**: sleeping until ${new Date(scheduledAt).toISOString()}, then the due-time checks (expiry, opt-out, recent activity, delivery switch, quiet hours, throttle) decide.`,
    );

    // The workflow list shows search attributes, not the static summary: the same words are a column there.
    const listedSummaries = async () => {
      const summaries: Array<string | undefined> = [];
      for await (const run of w.stack.temporal.client.workflow.list({ query: `WorkflowId = '${id}'` })) summaries.push(run.typedSearchAttributes.get(NotificationSummaryKey));
      return summaries;
    };
    expect(await eventually(listedSummaries, (s) => s.length === 1, { what: 'the run in the workflow list' })).toEqual([await description.staticSummary()]);

    const read = await w.api.get(id);
    expect(read.body.temporalUiUrl).toBe(`${UI}/namespaces/default/workflows/${id}`);
    await w.api.cancel(id);
  });

  test('one due sooner than twice START_DELAY_FROM starts halfway to its due time; one due within 2 s at once', async () => {
    const userId = await w.recipient();
    const soon = inSeconds(120);
    const halfway = await w.api.create({ userId, channels: ['webhook'], content: { body: 'in two minutes' }, scheduledAt: soon });
    const now = await w.api.create({ userId, channels: ['webhook'], content: { body: 'right away' } });
    const delayed = await handle(halfway.body.id).describe();
    const halfwayAt = (delayed.startTime.getTime() + Date.parse(soon)) / 2;
    expect(Math.abs(delayed.executionTime!.getTime() - halfwayAt)).toBeLessThan(2000);
    const immediate = await handle(now.body.id).describe();
    expect(immediate.executionTime!.getTime() - immediate.startTime.getTime()).toBeLessThan(1000);
    await w.api.cancel(halfway.body.id);
  });

  test('a deferred notification says why and until when, and its outcome once it ends', async () => {
    const userId = await w.recipient();
    const hhmm = (offsetMinutes: number) => new Date(Date.now() + offsetMinutes * 60_000).toISOString().slice(11, 16);
    await w.api.put(`/v1/users/${userId}/preferences`, { timeZone: 'UTC', quietHours: { start: hhmm(-60), end: hhmm(60) } });
    const created = await w.api.create({ userId, channels: ['webhook'], content: { title: 'Later', body: 'x' } });
    const deferred = await w.api.waitFor(created.body.id, 'DEFERRED');
    const until = deferred.live.nextWakeAt;
    // Postgres says DEFERRED a moment before the run starts its timer (its first: it was due at once).
    const timers = await eventually(() => timerSummaries(created.body.id), (t) => t.length >= 1, { what: 'the deferral timer' });
    expect(timers.at(-1)).toBe(`deferred (quiet_hours) until ${until}`);
    expect(await currentDetails(created.body.id)).toBe(`**DEFERRED** (quiet_hours): the checks said not yet; they run again at ${until}.`);

    await w.api.put(`/v1/users/${userId}/preferences`, { timeZone: 'UTC', quietHours: null });
    await w.api.waitFor(created.body.id, 'DELIVERED');
    // The send records DELIVERED; the run completes a moment later.
    await handle(created.body.id).result();
    const description = await handle(created.body.id).describe();
    expect(description.status.name).toBe('COMPLETED');
  });
});

/*
 * The same, read from the Temporal UI itself: the embedded default serves the UI, and its workflow
 * list page fetches its rows from the UI server's HTTP API. That answer carries each notification's
 * summary, so the list can show what every run is without opening it.
 */
describe('the Temporal UI of the embedded default', () => {
  let dataDir: string;
  let running: Awaited<ReturnType<typeof startService>> | undefined;
  afterAll(async () => {
    running?.child.kill('SIGTERM');
    await running?.exited;
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test("the UI server's workflow list answers each notification with its summary", async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-ui-'));
    const [port, uiPort] = [await freePort(), await freePort()];
    running = await startService({ DATA_DIR: dataDir, PORT: String(port), TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_UI_PORT: String(uiPort) });
    const api = client({ url: `http://127.0.0.1:${port}` });
    expect((await api.registerWebhook('ui-reader', 'http://127.0.0.1:9/never-called')).status).toBe(201);
    const created = await api.create({ userId: 'ui-reader', type: 'digest', channels: ['webhook'], content: { title: 'Your week', body: 'x' }, scheduledAt: inSeconds(3600) });
    expect(created.status).toBe(202);
    expect((await api.get(created.body.id)).body.temporalUiUrl).toBe(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${created.body.id}`);

    type Listed = { execution: { workflowId: string }; searchAttributes?: { indexedFields?: Record<string, { data?: string }> } };
    const listPage = async () => {
      const query = encodeURIComponent(`WorkflowId = '${created.body.id}'`);
      const response = await fetch(`http://127.0.0.1:${uiPort}/api/v1/namespaces/default/workflows?query=${query}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { executions?: Listed[] }).executions ?? [];
    };
    const [row] = await eventually(listPage, (rows) => rows.length === 1, { what: 'the run in the UI workflow list' });
    expect(row.execution.workflowId).toBe(created.body.id);
    // Payloads travel base64-encoded in the UI's JSON; the page decodes them the same way.
    const summary = row.searchAttributes?.indexedFields?.NotificationSummary?.data;
    expect(summary && JSON.parse(Buffer.from(summary, 'base64').toString('utf8'))).toBe('webhook → ui-reader · digest: "Your week"');
    await api.cancel(created.body.id);
  }, 120_000);
});
