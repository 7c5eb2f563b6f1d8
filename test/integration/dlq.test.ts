import { createHash } from 'node:crypto';
import { eventually } from '../setup/http';
import { createFailed, FAILED_REDRIVEN_DELIVERED, inSeconds, statusesOf, webhookWorld } from '../setup/scenario';
import { DATABASES } from '../setup/stack';

const OPS_KEY = 'ops-key-for-dlq-tests';
const OPS_KEY_ID = `key:${createHash('sha256').update(OPS_KEY).digest('hex').slice(0, 12)}`;

describe.each(DATABASES)('dead letters on %s: FAILED notifications listed, counted, redriven and discarded', (database) => {
  // Two attempts per target, quickly: a receiver that answers 500 twice fails a notification.
  const w = webhookWorld(`dlq-${database}`, {
    database,
    env: { API_KEYS: OPS_KEY, RETRY_WEBHOOK_INITIAL_INTERVAL: '100ms', RETRY_WEBHOOK_MAX_ATTEMPTS: '2', THROTTLE_BURST: '0' },
  });

  /** A notification whose receiver answers 500 until its two attempts are spent. */
  async function failed(type = 'dlq-test') {
    const userId = await w.recipient();
    const id = await createFailed(w.api, w.receiver, { userId, type, channels: ['webhook'], content: { body: `for ${userId}` } });
    return { id, userId };
  }
  const postsFor = (id: string) => w.receiver.received.filter((r) => r.headers['webhook-id'] === id);

  test('a failed notification is listed with its last error; redriven after the receiver recovers, it is DELIVERED with one continuous log', async () => {
    const { id, userId } = await failed();

    const listed = await w.api.read(`/v1/dlq?userId=${userId}`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((i: any) => i.id)).toEqual([id]);
    expect(listed.body.items[0].targets).toEqual([
      expect.objectContaining({ channel: 'webhook', outcome: 'failed', errorType: 'webhook_server_error', message: 'receiver answered HTTP 500' }),
    ]);
    expect(listed.body.items[0].failedAt).toBe(listed.body.items[0].completedAt);

    const redriven = await w.api.post(`/v1/notifications/${id}/redrive`, { reason: 'receiver fixed' });
    expect(redriven.status).toBe(202);
    expect(redriven.body.status).toBe('SCHEDULED');
    expect(redriven.body.statusReason).toBe('redriven');

    const done = await w.api.waitFor(id, 'DELIVERED', 'FAILED');
    expect(statusesOf(done)).toEqual(FAILED_REDRIVEN_DELIVERED);
    expect(done.transitions[3].details).toEqual(expect.objectContaining({ by: OPS_KEY_ID, reason: 'receiver fixed' }));
    expect(done.attempts.map((a: any) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, 'retryable_error', 500],
      [2, 'retryable_error', 500],
      [3, 'delivered', 204],
    ]);
    // The same webhook-id every time, so the receiver can tell it is one notification.
    expect(postsFor(id)).toHaveLength(3);
    expect((await w.api.read(`/v1/dlq?userId=${userId}`)).body.items).toEqual([]);
  });

  test('a redrive re-plans the targets: a webhook registered since the failure is used', async () => {
    const userId = `dlq-moved-${database}-${Date.now()}`;
    await w.api.registerWebhook(userId, `${w.receiver.url}/old-${userId}`);
    w.receiver.respondWith({ status: 410 });
    const created = await w.api.create({ userId, channels: ['webhook'], content: { body: 'moved' } });
    const failedOne = await w.api.waitFor(created.body.id, 'FAILED', 'DELIVERED');
    expect(failedOne.status).toBe('FAILED');
    const [old] = (await w.api.targets(userId)).body.items;
    expect(old.disabledReason).toBe('webhook_gone');

    const registered = await w.api.registerWebhook(userId, `${w.receiver.url}/new-${userId}`);
    expect(registered.status).toBe(201);
    expect((await w.api.post(`/v1/notifications/${created.body.id}/redrive`, { reason: 'new endpoint' })).status).toBe(202);
    const done = await w.api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
    expect(done.status).toBe('DELIVERED');
    expect(done.attempts.map((a: any) => [a.attempt, a.outcome, a.targetId])).toEqual([
      [1, 'permanent_error', old.id],
      [2, 'delivered', registered.body.id],
    ]);
  });

  test('a redrive uses a target that was disabled by the failure and has been registered again since', async () => {
    const userId = `dlq-again-${database}-${Date.now()}`;
    const url = `${w.receiver.url}/${userId}`;
    await w.api.registerWebhook(userId, url);
    w.receiver.respondWith({ status: 404 });
    const created = await w.api.create({ userId, channels: ['webhook'], content: { body: 'back again' } });
    expect((await w.api.waitFor(created.body.id, 'FAILED', 'DELIVERED')).status).toBe('FAILED');
    const [target] = (await w.api.targets(userId)).body.items;
    expect(target.disabledReason).toBe('webhook_gone');

    // Redriven while the only target is still disabled: nothing to send to, FAILED again.
    expect((await w.api.post(`/v1/notifications/${created.body.id}/redrive`, { reason: 'too early' })).status).toBe(202);
    const stillFailed = await w.api.waitUntil(created.body.id, (d) => d.status === 'FAILED' && d.transitions.length === 6, 'to fail again');
    expect(statusesOf(stillFailed).slice(3)).toEqual(['SCHEDULED(redriven)', 'SENDING', 'FAILED(no_deliverable_target)']);
    // The attempt log says why the redriven run sent nothing.
    expect(stillFailed.attempts.at(-1)).toMatchObject({ channel: 'webhook', attempt: 0, outcome: 'skipped', errorCode: 'no_active_target' });

    expect((await w.api.registerWebhook(userId, url)).status).toBeLessThan(300);
    expect((await w.api.post(`/v1/notifications/${created.body.id}/redrive`, { reason: 'endpoint is back' })).status).toBe(202);
    const done = await w.api.waitFor(created.body.id, 'DELIVERED');
    expect(done.attempts.map((a: any) => [a.attempt, a.outcome, a.targetId])).toEqual([
      [1, 'permanent_error', target.id],
      [0, 'skipped', ''],
      [2, 'delivered', target.id],
    ]);
  });

  test('a redrive may be scheduled for later, and is then pending like any notification: it can be cancelled', async () => {
    const { id } = await failed();
    const later = inSeconds(3600);
    const redriven = await w.api.post(`/v1/notifications/${id}/redrive`, { reason: 'after the maintenance window', scheduledAt: later });
    expect(redriven.status).toBe(202);
    expect(redriven.body.scheduledAt).toBe(later);
    const cancelled = await w.api.cancel(id);
    expect(cancelled.status).toBe(200);
    expect(statusesOf(cancelled.body)).toEqual(['SCHEDULED(accepted)', 'SENDING', 'FAILED(all_targets_failed)', 'SCHEDULED(redriven)', 'CANCELLED(requested)']);
    expect(postsFor(id)).toHaveLength(2);
  });

  test('two redrives at once: one starts the run, the other answers 200 with it; one delivery', async () => {
    const { id } = await failed();
    const answers = await Promise.all([1, 2].map(() => w.api.post(`/v1/notifications/${id}/redrive`, { reason: 'twice' })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 202]);
    const done = await w.api.waitFor(id, 'DELIVERED', 'FAILED');
    expect(done.transitions.filter((t: any) => t.reason === 'redriven')).toHaveLength(1);
    expect(done.attempts.filter((a: any) => a.outcome === 'delivered')).toHaveLength(1);
  });

  test('redriving what is not FAILED is a 409 naming its status; unknown ids 404; a reason is required', async () => {
    const userId = await w.recipient();
    const pending = await w.api.create({ userId, channels: ['webhook'], scheduledAt: inSeconds(3600), content: { body: 'later' } });
    const refused = await w.api.post(`/v1/notifications/${pending.body.id}/redrive`, { reason: 'why not' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual(expect.objectContaining({ code: 'not_failed', details: { status: 'SCHEDULED', statusReason: 'accepted' } }));
    expect((await w.api.get(pending.body.id)).body.transitions).toHaveLength(1);

    const { id } = await failed();
    expect((await w.api.post(`/v1/notifications/${id}/redrive`, {})).status).toBe(400);
    expect((await w.api.post(`/v1/notifications/${id}/redrive`, { reason: '   ' })).status).toBe(400);
    expect((await w.api.get(id)).body.status).toBe('FAILED');
    expect((await w.api.post('/v1/notifications/ntf_doesnotexist0000000000000/redrive', { reason: 'x' })).status).toBe(404);
  });

  test('a discard keeps the row FAILED, records who and why, and takes it off the list; discarding again changes nothing', async () => {
    const { id, userId } = await failed();
    const discarded = await w.api.post(`/v1/notifications/${id}/discard`, { reason: 'user deleted their account' });
    expect(discarded.status).toBe(200);
    expect(discarded.body.status).toBe('FAILED');
    expect(discarded.body.discardedAt).not.toBeNull();
    expect(discarded.body.transitions.at(-1)).toEqual(
      expect.objectContaining({ from: 'FAILED', to: 'FAILED', reason: 'discarded', details: { by: OPS_KEY_ID, reason: 'user deleted their account' } }),
    );

    expect((await w.api.read(`/v1/dlq?userId=${userId}`)).body.items).toEqual([]);
    expect((await w.api.read(`/v1/dlq?userId=${userId}&discarded=true`)).body.items.map((i: any) => i.id)).toEqual([id]);

    const again = await w.api.post(`/v1/notifications/${id}/discard`, { reason: 'twice' });
    expect(again.status).toBe(200);
    expect(again.body.transitions).toHaveLength(discarded.body.transitions.length);

    const userId2 = await w.recipient();
    const pending = await w.api.create({ userId: userId2, channels: ['webhook'], scheduledAt: inSeconds(3600), content: { body: 'later' } });
    const refused = await w.api.post(`/v1/notifications/${pending.body.id}/discard`, { reason: 'no' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.status).toBe('SCHEDULED');
  });

  test('stats count failed targets by channel × error type × period, for the filter given', async () => {
    const type = `dlq-stats-${Date.now()}`;
    await failed(type);
    await failed(type);
    const stats = await w.api.read(`/v1/dlq/stats?type=${type}&per=day`);
    expect(stats.status).toBe(200);
    const today = `${new Date().toISOString().slice(0, 10)}T00:00:00Z`;
    expect(stats.body).toEqual({ per: 'day', total: 2, counts: [{ channel: 'webhook', errorType: 'webhook_server_error', period: today, count: 2 }] });
    expect((await w.api.read(`/v1/dlq/stats?type=${type}&errorType=webhook_gone`)).body.total).toBe(0);
    expect((await w.api.read(`/v1/dlq?type=${type}&channel=webhook&errorType=webhook_server_error`)).body.items).toHaveLength(2);
    expect((await w.api.read(`/v1/dlq?type=${type}&channel=fcm`)).body.items).toHaveLength(0);
    expect((await w.api.read(`/v1/dlq/stats?per=week`)).status).toBe(400);
  });

  test('the list pages with a cursor, newest failure first', async () => {
    const type = `dlq-pages-${Date.now()}`;
    const ids = [(await failed(type)).id, (await failed(type)).id, (await failed(type)).id];
    const first = await w.api.read(`/v1/dlq?type=${type}&limit=2`);
    expect(first.body.items.map((i: any) => i.id)).toEqual([ids[2], ids[1]]);
    const second = await w.api.read(`/v1/dlq?type=${type}&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((i: any) => i.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    expect((await w.api.read(`/v1/dlq?cursor=forged`)).status).toBe(400);
  });

  describe('in bulk, by filter', () => {
    /** Polls the operation until it is no longer running. */
    const finished = (operationId: string) =>
      eventually(
        () => w.api.read(`/v1/dlq/operations/${operationId}`),
        (r) => r.status === 200 && r.body.state !== 'running',
        { what: `dead-letter operation ${operationId} to finish`, timeoutMs: 60_000 },
      ).then((r) => r.body);

    test('a dry run counts and samples without touching anything; confirmed, an operation redrives exactly that many, and each is DELIVERED', async () => {
      const type = `dlq-bulk-${database}-${Date.now()}`;
      const ids = [(await failed(type)).id, (await failed(type)).id, (await failed(type)).id];

      const dry = await w.api.post('/v1/dlq:redrive', { filter: { type }, reason: 'receiver back' });
      expect(dry.status).toBe(200);
      expect(dry.body).toEqual({ dryRun: true, action: 'redrive', matched: 3, sampleIds: ids });
      for (const id of ids) expect((await w.api.get(id)).body.status).toBe('FAILED');

      const confirmed = await w.api.post('/v1/dlq:redrive', { filter: { type }, reason: 'receiver back', confirm: true });
      expect(confirmed.status).toBe(202);
      expect(confirmed.body).toEqual(expect.objectContaining({ dryRun: false, matched: 3, operationId: expect.stringMatching(/^dlq-redrive-/) }));
      const done = await finished(confirmed.body.operationId);
      expect(done).toEqual(expect.objectContaining({ action: 'redrive', state: 'completed', done: dry.body.matched, failed: 0, failedIds: [] }));
      for (const id of ids) {
        const detail = await w.api.waitFor(id, 'DELIVERED', 'FAILED');
        expect(statusesOf(detail).slice(2)).toEqual(['FAILED(all_targets_failed)', 'SCHEDULED(redriven)', 'SENDING', 'DELIVERED']);
        expect(detail.transitions[3].details).toEqual(expect.objectContaining({ by: OPS_KEY_ID, reason: 'receiver back' }));
      }
      expect((await w.api.read(`/v1/dlq?type=${type}`)).body.items).toEqual([]);
    });

    test('a bulk discard marks every match with the reason, and respects its limit', async () => {
      const type = `dlq-bulk-discard-${database}-${Date.now()}`;
      await failed(type);
      await failed(type);
      await failed(type);
      const confirmed = await w.api.post('/v1/dlq:discard', { filter: { type }, reason: 'campaign over', confirm: true, limit: 2 });
      expect(confirmed.status).toBe(202);
      expect(await finished(confirmed.body.operationId)).toEqual(expect.objectContaining({ state: 'completed', done: 2, failed: 0 }));
      expect((await w.api.read(`/v1/dlq?type=${type}`)).body.items).toHaveLength(1);
      const discarded = (await w.api.read(`/v1/dlq?type=${type}&discarded=true`)).body.items;
      expect(discarded).toHaveLength(2);
      for (const item of discarded) expect((await w.api.get(item.id)).body.transitions.at(-1).details).toEqual({ by: OPS_KEY_ID, reason: 'campaign over' });
    });

    test('a bulk request needs a filter criterion and a reason; an unknown operation is 404', async () => {
      expect((await w.api.post('/v1/dlq:redrive', { filter: {}, reason: 'all of it' })).status).toBe(400);
      expect((await w.api.post('/v1/dlq:discard', { filter: { type: 'x' } })).status).toBe(400);
      expect((await w.api.post('/v1/dlq:discard', { filter: { type: 'x' }, reason: 'r', scheduledAt: inSeconds(60) })).status).toBe(400);
      expect((await w.api.read('/v1/dlq/operations/dlq-redrive-unknown')).status).toBe(404);
      // A workflow id that is not an operation (a notification's) is not one either.
      const { id } = await failed();
      expect((await w.api.read(`/v1/dlq/operations/${id}`)).status).toBe(404);
    });
  });
});
