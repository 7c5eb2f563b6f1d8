import { WorkflowNotFoundError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { notifications } from '../../drizzle/schema';
import { call, eventually } from '../setup/http';
import { client, inSeconds } from '../setup/scenario';
import { DATABASES, startTestStack, type TestStack } from '../setup/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../setup/webhook-receiver';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DATABASES)('idempotent create on %s', (database) => {
  let stack: TestStack;
  let receiver: WebhookReceiver;
  let api: ReturnType<typeof client>;
  const userId = `idem-${database}`;
  let keys = 0;
  /** A key no other test (or earlier run against the same server) has used. */
  const freshKey = (label: string) => `${label}-${database}-${Date.now()}-${++keys}`;

  beforeAll(async () => {
    stack = await startTestStack({ database, env: { THROTTLE_BURST: '0' } });
    receiver = await startWebhookReceiver();
    api = client(stack);
    expect((await api.registerWebhook(userId, receiver.url)).status).toBe(201);
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) => call(stack.url, 'POST', '/v1/notifications', { body, headers });
  /** Sends the JSON text exactly as written, so key order and whitespace reach the server untouched. */
  const postRaw = (raw: string, key: string) =>
    call(stack.url, 'POST', '/v1/notifications', { raw, headers: { 'content-type': 'application/json', 'Idempotency-Key': key } });
  const rowsWithKey = (key: string) => stack.database.db.select().from(notifications).where(eq(notifications.idempotencyKey, key));
  const rowsOfUser = (user: string) => stack.database.db.select().from(notifications).where(eq(notifications.userId, user));
  const postsFor = (id: string) => receiver.received.filter((r) => r.headers['webhook-id'] === id);
  const showRuns = (runs: Array<{ runId: string; status: { name: string } }>) => `[${runs.map((r) => `${r.runId} ${r.status.name}`).join(', ')}]`;
  async function runsOf(workflowId: string) {
    const runs = [];
    for await (const wf of stack.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf);
    return runs;
  }
  /** The accepted notification once its workflow has recorded SCHEDULED(accepted), so its row no longer moves. */
  const settledRow = async (key: string) => {
    const rows = await eventually(
      () => rowsWithKey(key),
      (r) => r.length === 1 && r[0].statusSeq >= 1,
      { what: `one row for key ${key} with SCHEDULED(accepted) recorded`, show: (r) => `${r.length} row(s), statusSeq ${r.map((x) => x.statusSeq)}` },
    );
    expect(rows).toHaveLength(1);
    return rows[0];
  };

  test('50 concurrent identical POSTs: one 202, 49 replays of the same notification, one row, one workflow, one send', async () => {
    const key = freshKey('burst');
    const body = { userId, channels: ['webhook'], content: { body: 'fifty at once' }, metadata: { sessionId: 'burst' } };
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(body, { 'Idempotency-Key': key })));

    expect(answers.map((a) => a.status).sort()).toEqual([...Array(49).fill(200), 202]);
    const accepted = answers.find((a) => a.status === 202)!;
    expect(accepted.headers.get('idempotency-replay')).toBeNull();
    const replays = answers.filter((a) => a.status === 200);
    expect(replays.every((a) => a.headers.get('idempotency-replay') === 'true')).toBe(true);
    const id = accepted.body.id;
    expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([id]));

    await api.waitFor(id, 'DELIVERED');
    const handle = stack.temporal.client.workflow.getHandle(id);
    await eventually(
      () => handle.describe().then((d) => d.status.name),
      (s) => s === 'COMPLETED',
      { what: `the run of ${id} to close COMPLETED` },
    );
    const runs = await eventually(
      () => runsOf(id),
      (r) => r.length > 0 && r.every((run) => run.status.name === 'COMPLETED'),
      { what: `the visibility listing of ${id} to show only COMPLETED runs`, show: showRuns },
    );
    expect(runs).toHaveLength(1);
    expect(await rowsWithKey(key)).toHaveLength(1);
    expect((await rowsWithKey(key))[0]).toMatchObject({ id, workflowId: id, status: 'DELIVERED' });
    await sleep(500);
    expect(postsFor(id)).toHaveLength(1);
  });

  test('a body differing only in key order, whitespace or time-zone notation is the same request; any other change is 409 and changes nothing', async () => {
    const key = freshKey('format');
    const dueAt = new Date(Date.parse(inSeconds(3600)));
    dueAt.setUTCMilliseconds(0);
    const scheduledAt = dueAt.toISOString();
    const body = {
      userId,
      type: 'reminder',
      channels: ['webhook'],
      scheduledAt,
      content: { title: 'Bedtime', body: 'Time to wind down', data: { a: '1', b: '2' } },
      metadata: { sessionId: 's-1', n: 1 },
    };
    const first = await post(body, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    const id = first.body.id;
    const before = await settledRow(key);
    const detailBefore = (await api.get(id)).body;

    // The same instant written as Seoul local time.
    const seoul = new Date(dueAt.getTime() + 9 * 3600_000).toISOString().replace('.000Z', '+09:00');
    const reordered = [
      `{\n  "metadata" : { "n" : 1, "sessionId" : "s-1" },\n\t"content": {"data": {"b":"2",   "a":"1"}, "body":"Time to wind down", "title":"Bedtime"},` +
        `\n "scheduledAt":"${scheduledAt}",  "channels":[ "webhook" ], "type":"reminder",\r\n   "userId": "${userId}" }\n`,
      JSON.stringify({ ...body, scheduledAt: seoul }),
      // A default spelled out is what the server would have assumed anyway.
      JSON.stringify({ ...body, routing: 'all' }),
      JSON.stringify({ ...body, category: body.type }),
    ];
    for (const raw of reordered) {
      const same = await postRaw(raw, key);
      expect({ raw, status: same.status }).toEqual({ raw, status: 200 });
      expect(same.headers.get('idempotency-replay')).toBe('true');
      expect(same.body.id).toBe(id);
    }

    const changes: Array<[string, Record<string, unknown>]> = [
      ['content.body', { ...body, content: { ...body.content, body: 'Time to wake up' } }],
      ['content.title dropped', { ...body, content: { body: body.content.body, data: body.content.data } }],
      ['content.data value', { ...body, content: { ...body.content, data: { a: '1', b: '3' } } }],
      ['userId', { ...body, userId: `${userId}-other` }],
      ['type', { ...body, type: 'digest' }],
      ['routing', { ...body, routing: 'fallback' }],
      ['scheduledAt one second later', { ...body, scheduledAt: new Date(dueAt.getTime() + 1000).toISOString() }],
      ['metadata number → string', { ...body, metadata: { sessionId: 's-1', n: '1' } }],
      ['collapseKey added', { ...body, collapseKey: 'bedtime' }],
    ];
    for (const [what, changed] of changes) {
      const refused = await post(changed, { 'Idempotency-Key': key });
      expect({ what, status: refused.status, code: refused.body?.error?.code }).toEqual({ what, status: 409, code: 'idempotency_key_reused' });
      expect(refused.body.error.details).toMatchObject({ notificationId: id });
    }

    expect(await rowsWithKey(key)).toEqual([before]);
    expect((await rowsOfUser(`${userId}-other`)).length).toBe(0);
    const detailAfter = (await api.get(id)).body;
    expect(detailAfter.transitions).toEqual(detailBefore.transitions);
    expect(detailAfter.content).toEqual(body.content);
    expect(await runsOf(id)).toHaveLength(1);
  });

  test('the key may come in the body field instead of the header, with the same guarantees; header and body disagreeing is a 400', async () => {
    const key = freshKey('field');
    const body = { userId, channels: ['webhook'], scheduledAt: inSeconds(3600), content: { body: 'key in the body' } };

    const first = await post({ ...body, idempotencyKey: key });
    expect(first.status).toBe(202);
    expect(first.body.idempotencyKey).toBe(key);
    const id = first.body.id;
    const before = await settledRow(key);

    for (const [how, again] of [
      ['body field again', () => post({ ...body, idempotencyKey: key })],
      ['header only', () => post(body, { 'Idempotency-Key': key })],
      ['header and body field agreeing', () => post({ ...body, idempotencyKey: key }, { 'Idempotency-Key': key })],
    ] as const) {
      const replay = await again();
      expect({ how, status: replay.status, id: replay.body.id }).toEqual({ how, status: 200, id });
      expect(replay.headers.get('idempotency-replay')).toBe('true');
    }

    const changed = await post({ ...body, content: { body: 'something else' }, idempotencyKey: key });
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('idempotency_key_reused');

    // Disagreeing keys are refused before anything is stored, whichever of them is known.
    const other = freshKey('other');
    for (const [header, field] of [
      [key, other],
      [other, key],
    ]) {
      const refused = await post({ ...body, idempotencyKey: field }, { 'Idempotency-Key': header });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('idempotency_key_mismatch');
    }
    const missing = await post(body);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('idempotency_key_missing');

    expect(await rowsWithKey(other)).toHaveLength(0);
    expect(await rowsWithKey(key)).toEqual([before]);
    expect(await runsOf(id)).toHaveLength(1);
  });

  test('the guarantee outlives Temporal’s retention: after the closed run is deleted, a replay answers from Postgres and starts nothing', async () => {
    const key = freshKey('retention');
    const body = { userId, channels: ['webhook'], content: { body: 'outlives retention' }, metadata: { sessionId: 'ret' } };
    const first = await post(body, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    const id = first.body.id;
    const delivered = await api.waitFor(id, 'DELIVERED');
    expect(delivered.status).toBe('DELIVERED');

    // Simulate the end of the retention period: the closed run disappears from Temporal.
    const handle = stack.temporal.client.workflow.getHandle(id);
    await eventually(
      () => handle.describe().then((d) => d.status.name),
      (s) => s === 'COMPLETED',
      { what: `the run of ${id} to close COMPLETED` },
    );
    await stack.temporal.client.workflowService.deleteWorkflowExecution({
      namespace: stack.config.temporal.namespace,
      workflowExecution: { workflowId: id },
    });
    const deleteRequested = Date.now();
    const notFound = () =>
      handle.describe().then(
        () => false,
        (err) => err instanceof WorkflowNotFoundError,
      );
    // The server deletes asynchronously, after the run's close has reached visibility: this can take a while.
    expect(await eventually(notFound, (gone) => gone, { what: `Temporal to delete the closed run of ${id}`, timeoutMs: 100_000 })).toBe(true);
    expect(
      await eventually(
        () => runsOf(id),
        (r) => r.length === 0,
        { what: `the visibility listing to drop ${id}`, show: showRuns },
      ),
    ).toHaveLength(0);
    console.log(`${database}: Temporal took ${((Date.now() - deleteRequested) / 1000).toFixed(1)} s to delete the closed run`);
    const row = (await rowsWithKey(key))[0];

    const replay = await post(body, { 'Idempotency-Key': key });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotency-replay')).toBe('true');
    expect(replay.body).toMatchObject({ id, status: 'DELIVERED', sendingStartedAt: delivered.sendingStartedAt });

    const changed = await post({ ...body, content: { body: 'a new text' } }, { 'Idempotency-Key': key });
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('idempotency_key_reused');

    // Nothing was started: no run under that id, no second send, the row untouched.
    await sleep(1500);
    expect(await notFound()).toBe(true);
    expect(await runsOf(id)).toHaveLength(0);
    expect(postsFor(id)).toHaveLength(1);
    expect(await rowsWithKey(key)).toEqual([row]);
  }, 180_000);
});
