import { verifyWebhook } from '../../src/channels/signature';
import { call, eventually } from '../setup/http';
import { client } from '../setup/scenario';
import { DATABASES, startTestStack, type TestStack } from '../setup/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../setup/webhook-receiver';

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

describe.each(DATABASES)('a webhook notification end to end on %s', (database) => {
  let stack: TestStack;
  let receiver: WebhookReceiver;
  let secret: string;
  let api: ReturnType<typeof client>;
  const userId = `user-${database}`;

  beforeAll(async () => {
    stack = await startTestStack({ database, env: { RETRY_WEBHOOK_INITIAL_INTERVAL: '200ms' } });
    receiver = await startWebhookReceiver();
    api = client(stack);
    const registered = await call(stack.url, 'POST', `/v1/users/${userId}/webhooks`, { body: { url: receiver.url } });
    expect(registered.status).toBe(201);
    secret = registered.body.secret;
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });
  beforeEach(() => receiver.received.splice(0));

  const create = (key: string, body: Record<string, unknown>) =>
    call(stack.url, 'POST', '/v1/notifications', { body, headers: { 'Idempotency-Key': key } });

  test('sleeps until scheduledAt, then POSTs one correctly signed webhook and records DELIVERED', async () => {
    const scheduledAt = inSeconds(2);
    const created = await create(`slice-${database}`, {
      userId,
      type: 'reminder',
      channels: ['webhook'],
      scheduledAt,
      content: { title: 'Bedtime', body: 'Time to wind down' },
      metadata: { sessionId: 's-1' },
    });
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('SCHEDULED');
    const id = created.body.id;

    const done = await api.waitFor(id, 'DELIVERED');
    expect(done.status).toBe('DELIVERED');
    expect(done.transitions.map((t: { to: string }) => t.to)).toEqual(['SCHEDULED', 'SENDING', 'DELIVERED']);
    expect(done.attempts).toEqual([expect.objectContaining({ channel: 'webhook', outcome: 'delivered', httpStatus: 204 })]);

    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received;
    expect(hook.receivedAt).toBeGreaterThanOrEqual(Date.parse(scheduledAt));
    const headers = {
      id: String(hook.headers['webhook-id']),
      timestamp: String(hook.headers['webhook-timestamp']),
      signature: String(hook.headers['webhook-signature']),
    };
    expect(headers.id).toBe(id);
    expect(verifyWebhook(secret, headers, hook.body)).toBe(true);
    expect(verifyWebhook(secret, headers, hook.body.replace('wind down', 'wake up'))).toBe(false);
    expect(JSON.parse(hook.body).data).toMatchObject({
      notificationId: id,
      userId,
      type: 'reminder',
      title: 'Bedtime',
      body: 'Time to wind down',
      metadata: { sessionId: 's-1' },
    });

    const listed = await eventually(
      async () => {
        const found = [];
        for await (const wf of stack.temporal.client.workflow.list({
          query: `WorkflowId = '${id}' AND NotificationStatus = 'DELIVERED' AND UserId = '${userId}'`,
        })) {
          found.push(wf.workflowId);
        }
        return found;
      },
      (found) => found.length === 1,
      { what: `the visibility listing to show ${id} as DELIVERED for ${userId}` },
    );
    expect(listed).toEqual([id]);
  });

  test('the same Idempotency-Key and body give the same notification and one workflow', async () => {
    const body = { userId, channels: ['webhook'], scheduledAt: inSeconds(600), content: { body: 'once' } };
    const first = await create(`dup-${database}`, body);
    const second = await create(`dup-${database}`, { ...body, content: { body: 'once' } });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotency-replay')).toBe('true');
    expect(second.body.id).toBe(first.body.id);

    // Temporal's visibility store lists a new run a moment after its start; wait for it, then count.
    const listRuns = async () => {
      const runs = [];
      for await (const wf of stack.temporal.client.workflow.list({ query: `WorkflowId = '${first.body.id}'` })) runs.push(wf);
      return runs;
    };
    const runs = await eventually(listRuns, (r) => r.length > 0, { what: 'the run to be listed' });
    expect(runs).toHaveLength(1);

    const reused = await create(`dup-${database}`, { ...body, content: { body: 'a different text' } });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
  });

  test('a receiver error is retried by Temporal until the receiver accepts', async () => {
    receiver.respondWith({ status: 503 }, { status: 500 });
    const created = await create(`retry-${database}`, { userId, channels: ['webhook'], content: { body: 'retry me' } });
    const done = await api.waitFor(created.body.id, 'DELIVERED');
    expect(done.status).toBe('DELIVERED');
    expect(receiver.received).toHaveLength(3);
    expect(done.attempts.map((a: { outcome: string; httpStatus: number }) => [a.outcome, a.httpStatus])).toEqual([
      ['retryable_error', 503],
      ['retryable_error', 500],
      ['delivered', 204],
    ]);
  });

  test('a receiver that answers 410 fails the notification without retrying and disables the endpoint', async () => {
    const gone = await startWebhookReceiver();
    try {
      gone.respondWith({ status: 410 });
      const goneUser = `gone-${database}`;
      await call(stack.url, 'POST', `/v1/users/${goneUser}/webhooks`, { body: { url: gone.url } });
      const first = await create(`gone-1-${database}`, { userId: goneUser, channels: ['webhook'], content: { body: 'x' } });
      const failed = await api.waitFor(first.body.id, 'FAILED', 'DELIVERED');
      expect(failed.status).toBe('FAILED');
      expect(failed.attempts).toEqual([expect.objectContaining({ outcome: 'permanent_error', errorCode: 'webhook_gone' })]);

      const second = await create(`gone-2-${database}`, { userId: goneUser, channels: ['webhook'], content: { body: 'y' } });
      const skipped = await api.waitFor(second.body.id, 'FAILED', 'DELIVERED');
      expect(skipped.status).toBe('FAILED');
      expect(gone.received).toHaveLength(1);
    } finally {
      await gone.close();
    }
  });
});
