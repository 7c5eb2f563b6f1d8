import { sql } from 'drizzle-orm';
import { query } from '../../src/db/raw';
import { call } from '../setup/http';
import { parseExposition, total, type Sample } from '../setup/prometheus';
import { inSeconds, webhookWorld } from '../setup/scenario';

/*
 * An operator reads Herald's health off /metrics. The counters must agree with what Postgres
 * records: every notification accepted, every transition and every provider call, by label.
 */
describe('/metrics', () => {
  const world = webhookWorld('metrics', {
    database: 'postgres',
    env: { RETRY_WEBHOOK_INITIAL_INTERVAL: '100ms', RETRY_WEBHOOK_MAX_ATTEMPTS: '2' },
  });

  async function scrape(): Promise<{ text: string; samples: Sample[] }> {
    const response = await call(world.stack.url, 'GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return { text: response.body as string, samples: parseExposition(response.body as string) };
  }
  const rows = <T>(statement: ReturnType<typeof sql>) => query<T>(world.stack.database.db, statement);

  test('count what Postgres records, for a run of mixed outcomes', async () => {
    const { api, receiver } = world;
    const ids: string[] = [];
    const users: string[] = [];
    // One at a time, so each takes the receiver's next answers: delivered, retried then delivered,
    // failed after two 500s, and a 410 that disables the target.
    const answers: Array<number[]> = [[204], [204], [204], [500, 204], [500, 500], [410]];
    for (const statuses of answers) {
      const userId = await world.recipient();
      users.push(userId);
      receiver.respondWith(...statuses.map((status) => ({ status })));
      const created = await api.create({ userId, type: 'metrics-check', channels: ['webhook'], content: { body: `answers ${statuses.join(',')}` } });
      expect(created.status).toBe(202);
      ids.push(created.body.id);
      await api.waitFor(created.body.id, 'DELIVERED', 'FAILED');
    }
    // No target at all: FAILED without a provider call.
    const nobody = await api.create({ userId: 'metrics-nobody', channels: ['webhook'], content: { body: 'to nobody' } });
    await api.waitFor(nobody.body.id, 'FAILED');
    // Cancelled while it sleeps.
    const later = await api.create({ userId: users[0], type: 'metrics-later', channels: ['webhook'], content: { body: 'later' }, scheduledAt: inSeconds(3600) });
    expect((await api.cancel(later.body.id)).status).toBe(200);
    await api.waitFor(later.body.id, 'CANCELLED');
    // A repeated key is a replay, not a new notification.
    const key = 'metrics-replayed-key';
    const once = { userId: users[1], channels: ['webhook'], content: { body: 'once' }, scheduledAt: inSeconds(3600) };
    expect((await api.create(once, key)).status).toBe(202);
    expect((await api.create(once, key)).status).toBe(200);

    const { text, samples } = await scrape();

    const [{ notifications }] = await rows<{ notifications: number }>(sql`select count(*)::int as notifications from notifications`);
    expect(notifications).toBe(answers.length + 3);
    expect(total(samples, 'herald_notifications_created_total')).toBe(notifications);
    expect(total(samples, 'herald_notifications_created_total', { type: 'metrics-check', channels: 'webhook' })).toBe(answers.length);

    const transitions = await rows<{ status: string; reason: string; n: number }>(
      sql`select to_status as status, coalesce(reason, 'none') as reason, count(*)::int as n from notification_transitions group by 1, 2`,
    );
    expect(transitions.length).toBeGreaterThanOrEqual(6);
    for (const t of transitions) expect([t.status, t.reason, total(samples, 'herald_transitions_total', { status: t.status, reason: t.reason })]).toEqual([t.status, t.reason, t.n]);
    expect(total(samples, 'herald_transitions_total')).toBe(transitions.reduce((sum, t) => sum + t.n, 0));

    const attempts = await rows<{ channel: string; outcome: string; errorType: string; n: number }>(
      sql`select channel, outcome, coalesce(error_code, 'none') as "errorType", count(*)::int as n from delivery_attempts group by 1, 2, 3`,
    );
    // 204 ×3, 500 then 204, 500 ×2, 410: eight calls; and the line that says why the notification to nobody sent nothing.
    expect(attempts.reduce((sum, a) => sum + a.n, 0)).toBe(9);
    expect(attempts).toContainEqual({ channel: 'webhook', outcome: 'skipped', errorType: 'no_active_target', n: 1 });
    for (const a of attempts) {
      const counted = total(samples, 'herald_send_attempts_total', { channel: a.channel, outcome: a.outcome, error_type: a.errorType });
      expect([a.outcome, a.errorType, counted]).toEqual([a.outcome, a.errorType, a.n]);
    }
    expect(total(samples, 'herald_send_attempts_total')).toBe(9);

    // Sending began once for each notification that reached a target.
    expect(total(samples, 'herald_send_lateness_seconds_count', { channel: 'webhook' })).toBe(answers.length);
    const [{ failed }] = await rows<{ failed: number }>(sql`select count(*)::int as failed from notifications where status = 'FAILED'`);
    expect(failed).toBe(3);
    expect(total(samples, 'herald_dead_letters')).toBe(failed);
    expect(total(samples, 'herald_pending_notifications', { status: 'SCHEDULED' })).toBe(1);
    expect(total(samples, 'herald_active_targets', { channel: 'webhook' })).toBe(answers.length - 1);
    expect(total(samples, 'herald_targets_disabled_total', { channel: 'webhook', error_type: 'webhook_gone' })).toBe(1);
    expect(total(samples, 'herald_http_request_duration_seconds_count', { method: 'POST', route: '/v1/notifications', status: '202' })).toBe(notifications);
    expect(total(samples, 'herald_http_request_duration_seconds_count', { method: 'POST', route: '/v1/notifications', status: '200' })).toBe(1);

    // No label carries a notification id, a user id or an address.
    for (const secretish of [...ids, ...users, receiver.url]) expect(text).not.toContain(secretish);
  });
});
