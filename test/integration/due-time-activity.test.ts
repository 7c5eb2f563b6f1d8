import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import { createDueTimeActivities, type DueDeliveryInput } from '../../activities/due-time';
import { createLogger } from '../../src/logger';
import { activityDeps } from '../../src/worker';
import { query } from '../../src/db/raw';
import { webhookWorld } from '../setup/scenario';
import { DATABASES } from '../setup/stack';

/*
 * The due-time activity decides, sends a single target's first attempt and records DELIVERED with it.
 * If the worker running it dies after that write, Temporal runs it again: the retry must find the
 * delivery recorded and send nothing. V7 runs it as a local activity, whose tries count from 1 again
 * when the workflow task that ran it is lost with its worker: that run must send nothing either.
 */
describe.each(DATABASES)('the due-time activity, tried again after its first try delivered (%s)', (database) => {
  // The default throttle is on, so the decision runs in a transaction: on PGlite's single connection
  // a read outside it would wait forever.
  const world = webhookWorld('due-retry', { database });

  function dueTimeActivities() {
    const { config, database, reporter, metrics, temporal } = world.stack;
    return createDueTimeActivities(activityDeps({ config, db: database.db, log: createLogger('silent', 'test'), temporal, reporter, metrics }));
  }

  const runs = [
    ['a retry of the activity on a task queue', { attempt: 2 }, 'deliverAtDueTime'],
    ['the local activity run again from try 1 after a lost workflow task', { attempt: 1, isLocal: true }, 'deliverInlineAtDueTime'],
  ] as const;
  test.each(runs)('%s answers "delivered" from the record and sends no second request', async (_name, info, activity) => {
    const { api, receiver } = world;
    const userId = await world.recipient();
    const created = await api.create({ userId, channels: ['webhook'], content: { body: 'once only' } });
    const delivered = await api.waitFor(created.body.id, 'DELIVERED');
    // Transitions are numbered from 1 in the order they are listed.
    const sendingSeq = delivered.transitions.findIndex((t: { to: string }) => t.to === 'SENDING') + 1;
    expect(sendingSeq).toBeGreaterThan(1);
    const requests = () => receiver.received.filter((r) => r.headers['webhook-id'] === created.body.id).length;
    expect(requests()).toBe(1);

    const input: DueDeliveryInput = {
      notificationId: created.body.id,
      userId,
      type: delivered.type,
      category: delivered.category,
      channels: ['webhook'],
      seq: sendingSeq,
      status: 'SCHEDULED',
      content: { body: 'once only' },
    };
    const tokensLeft = async () => {
      const rows = await query<{ tokens: number | string }>(world.stack.database.db, sql`select tokens from throttle_buckets where user_id = ${userId} and channel = 'webhook'`);
      return Number(rows[0].tokens);
    };
    const tokensBefore = await tokensLeft();
    const retry = new MockActivityEnvironment(info);
    const answer = await retry.run(dueTimeActivities()[activity], input);

    expect(answer).toMatchObject({ action: 'send', firstAttempt: { outcome: 'delivered', recorded: true } });
    expect(requests()).toBe(1);
    // The SENDING it found recorded had spent the recipient's token; the retry spends none.
    expect(await tokensLeft()).toBeCloseTo(tokensBefore, 1);
    expect(tokensBefore).toBeLessThan(world.stack.config.policy.throttle.burst);
    const after = await api.read(`/v1/notifications/${created.body.id}`);
    expect(after.body.attempts).toHaveLength(1);
    expect(after.body.transitions).toHaveLength(delivered.transitions.length);
  });
});
