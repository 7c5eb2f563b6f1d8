import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import postgres from 'postgres';
import { cancelSignal, changeUpdate, TERMINAL_STATUSES } from '../../workflows/definitions';
import { eventually, type ApiResponse } from '../setup/http';
import { inSeconds, statusesOf, webhookWorld, type WebhookWorld } from '../setup/scenario';

/*
 * Races a client of the API can notice, each repeated over concurrent trials on fresh recipients and
 * checked on every trial: a cancel answered "too late" although it happened, a change answered 200
 * although it was dropped, a "too late" that names the wrong status, a content change that releases a
 * held notification, an operator's `temporal workflow cancel` that marks a delivered run cancelled,
 * a throttle token spent by a notification that was never sent.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Runs `trials` trials at once, each started `spreadMs` after the previous one; returns the results in order. */
function concurrently<T>(trials: number, spreadMs: number, run: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: trials }, (_, i) => sleep(i * spreadMs).then(() => run(i))));
}

/** Spreads `trials` values evenly over [min, max], in a shuffled order so neighbouring trials differ. */
function spread(trials: number, min: number, max: number): number[] {
  const values = Array.from({ length: trials }, (_, i) => Math.round(min + ((max - min) * i) / Math.max(1, trials - 1)));
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return values;
}

const answerOf = (r: ApiResponse) =>
  r.status < 300 ? `${r.status} ${r.body?.status}` : `${r.status} ${r.body?.error?.code}: ${r.body?.error?.message} ${JSON.stringify(r.body?.error?.details ?? null)}`;

/**
 * A pending notification's workflow has nothing in flight: it waits for the end of its start delay
 * (no workflow task yet), or its last workflow task started a timer and scheduled no activity.
 */
async function asleep(w: WebhookWorld, id: string): Promise<void> {
  const handle = w.stack.temporal.client.workflow.getHandle(id);
  await eventually(
    async () => (await handle.fetchHistory()).events ?? [],
    (events) => {
      if (events.length === 1 && events[0].workflowExecutionStartedEventAttributes?.firstWorkflowTaskBackoff) return true;
      let last = events.length - 1;
      while (last >= 0 && events[last].workflowTaskCompletedEventAttributes == null) last--;
      const tail = events.slice(last + 1);
      return (
        tail.some((e) => e.timerStartedEventAttributes != null) &&
        !tail.some((e) => e.activityTaskScheduledEventAttributes != null || e.workflowTaskScheduledEventAttributes != null)
      );
    },
    { what: `the workflow of ${id} to wait for its start or sleep on a timer`, show: (events) => `${events.length} events, the last ${JSON.stringify(Object.keys(events.at(-1) ?? {}))}` },
  );
}

/**
 * Checks the answer to a PATCH that raced a cancel against what was recorded; returns what is wrong, if anything.
 * A change took effect when the notification shows its value; it was recorded in time when a change
 * transition (rescheduled or replaced_content: two accepted changes may share one) precedes CANCELLED(requested).
 * A content change to a DEFERRED notification stays DEFERRED, so there only its effect is checked.
 */
function changeProblems(
  what: string,
  change: { scheduledAt?: string; content?: unknown },
  answer: ApiResponse,
  final: any,
  { transitionExpected = true } = {},
): string[] {
  const transitions = statusesOf(final);
  const cancelledAt = transitions.indexOf('CANCELLED(requested)');
  const beforeCancel = cancelledAt < 0 ? transitions : transitions.slice(0, cancelledAt);
  const recordedInTime = !transitionExpected || beforeCancel.some((t) => t === 'SCHEDULED(rescheduled)' || t === 'SCHEDULED(replaced_content)');
  const effective = change.content ? isDeepStrictEqual(final.content, change.content) : final.scheduledAt === change.scheduledAt;
  const seen = `transitions [${transitions.join(', ')}], scheduledAt ${final.scheduledAt}, content ${JSON.stringify(final.content)}`;
  if (answer.status === 200) {
    return effective && recordedInTime ? [] : [`${what}: PATCH answered 200 but the change was dropped: ${seen}`];
  }
  if (answer.status === 409 && answer.body?.error?.code === 'too_late') {
    const problems: string[] = [];
    if (answer.body.error.details?.status !== 'CANCELLED' || /already (SCHEDULED|DEFERRED)/.test(answer.body.error.message)) {
      problems.push(`${what}: a change that lost to a cancel was answered ${answerOf(answer)}`);
    }
    if (effective) problems.push(`${what}: PATCH answered too_late, yet the change took effect: ${seen}`);
    return problems;
  }
  return [`${what}: unexpected PATCH answer ${answerOf(answer)}`];
}

function cancelProblems(what: string, answer: ApiResponse): string[] {
  return answer.status === 200 && answer.body?.status === 'CANCELLED' ? [] : [`${what}: DELETE answered ${answerOf(answer)}`];
}

describe('races a client of the API can notice', () => {
  // On the PostgreSQL server, so that a test can hold a row lock and make recording slow, as a busy database would.
  const w = webhookWorld('races', { database: 'postgres', env: { THROTTLE_BURST: '0', DELIVERY_OFF_RECHECK: '10m' } });
  const postsFor = (id: string) => w.receiver.received.filter((r) => r.headers['webhook-id'] === id);
  let side: postgres.Sql;
  beforeAll(() => {
    side = postgres(w.stack.config.database.url!, { max: 12, onnotice: () => undefined });
  });
  afterAll(() => side?.end());

  /**
   * Runs `during` while another session holds the notification's row lock, so whatever the service
   * writes to that row waits (a slow database, seen from the service); the lock goes `holdMs` after `during` returns.
   */
  async function whileRecordingIsSlow<T>(id: string, holdMs: number, during: () => Promise<T>): Promise<T> {
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const transaction = side.begin(async (tx) => {
      await tx`select id from notifications where id = ${id} for update`;
      locked();
      await released;
    });
    await Promise.race([isLocked, transaction]);
    try {
      return await during();
    } finally {
      setTimeout(release, holdMs);
      await transaction;
    }
  }

  /** Waits (at most `ms`) until the workflow has an activity in flight, e.g. recording a cancel that waits on a lock. */
  async function recording(id: string, ms = 3000): Promise<void> {
    const handle = w.stack.temporal.client.workflow.getHandle(id);
    for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) {
      if ((await handle.describe()).raw.pendingActivities?.length) return;
    }
  }

  /**
   * A notification for a fresh recipient, due in an hour, whose workflow is asleep. `awake`: its run
   * has started and sleeps on a timer, as one that a plain signal reaches at once (a run still in its
   * start delay takes signals only at its due time); an update the workflow refuses wakes it.
   */
  async function pending({ awake = false } = {}) {
    const userId = await w.recipient();
    const created = await w.api.create({ userId, channels: ['webhook'], scheduledAt: inSeconds(3600), content: { body: `for ${userId}` } });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    if (awake) {
      const refused = await w.stack.temporal.client.workflow.getHandle(id).executeUpdate(changeUpdate, { args: [{}] }).then(() => undefined, (err: unknown) => err);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    }
    await asleep(w, id);
    return { userId, id };
  }

  /** Each PATCH of a trial carries a change of its own kind: a new due time or new content. */
  const changeFor = (n: number, label: string) =>
    n % 2 === 0 ? { scheduledAt: inSeconds(7200 + n) } : { content: { title: 'Changed', body: `changed by ${label}` } };

  describe('cancelling twice is a no-op 200', () => {
    // The second cancel must land while the first CANCELLED is being written: a narrow window, so many trials.
    const TRIALS = 40;

    test(`two concurrent DELETEs of a pending notification both answer 200 CANCELLED (${TRIALS} trials)`, async () => {
      const gaps = spread(TRIALS, 0, 200);
      const results = await concurrently(TRIALS, 50, async (n) => {
        const { id } = await pending();
        const first = w.api.cancel(id);
        await sleep(gaps[n]);
        const answers = await Promise.all([first, w.api.cancel(id)]);
        const final = await w.api.waitFor(id, ...TERMINAL_STATUSES);
        const what = `trial ${n} (${id}, second DELETE ${gaps[n]} ms after the first)`;
        const problems = [...cancelProblems(`${what}, first`, answers[0]), ...cancelProblems(`${what}, second`, answers[1])];
        if (statusesOf(final).join() !== 'SCHEDULED(accepted),CANCELLED(requested)') problems.push(`${what}: transitions [${statusesOf(final).join(', ')}]`);
        return problems;
      });
      expect(results.flat()).toEqual([]);
    }, 120_000);

    const SLOW_TRIALS = 10;

    test(`while Postgres is slow to record the first cancel, a second DELETE answers 200 CANCELLED (${SLOW_TRIALS} trials)`, async () => {
      const results = await concurrently(SLOW_TRIALS, 100, async (n) => {
        const { id } = await pending();
        const answers = await whileRecordingIsSlow(id, 1000, async () => {
          const first = w.api.cancel(id);
          await recording(id);
          return [first, w.api.cancel(id)];
        }).then((a) => Promise.all(a));
        const final = await w.api.waitFor(id, ...TERMINAL_STATUSES);
        const what = `trial ${n} (${id}, second DELETE while CANCELLED was being written)`;
        const problems = [...cancelProblems(`${what}, first`, answers[0]), ...cancelProblems(`${what}, second`, answers[1])];
        if (statusesOf(final).join() !== 'SCHEDULED(accepted),CANCELLED(requested)') problems.push(`${what}: transitions [${statusesOf(final).join(', ')}]`);
        return problems;
      });
      expect(results.flat()).toEqual([]);
    }, 120_000);

    test(`while Postgres is slow to record an operator's cancel signal, a DELETE answers 200 CANCELLED (${SLOW_TRIALS} trials)`, async () => {
      const results = await concurrently(SLOW_TRIALS, 100, async (n) => {
        const { id } = await pending({ awake: true });
        // Not awaited inside: a DELETE that rightly waits for the record must not hold the lock open.
        const { answer } = await whileRecordingIsSlow(id, 1000, async () => {
          await w.stack.temporal.client.workflow.getHandle(id).signal(cancelSignal, 'op');
          await recording(id);
          return { answer: w.api.cancel(id) };
        });
        const final = await w.api.waitFor(id, ...TERMINAL_STATUSES);
        const what = `trial ${n} (${id}, DELETE while the signalled CANCELLED was being written)`;
        const problems = cancelProblems(what, await answer);
        if (statusesOf(final).join() !== 'SCHEDULED(accepted),CANCELLED(requested)') problems.push(`${what}: transitions [${statusesOf(final).join(', ')}]`);
        return problems;
      });
      expect(results.flat()).toEqual([]);
    }, 120_000);

    test(`a DELETE concurrent with an operator's cancel signal answers 200 CANCELLED (${TRIALS} trials)`, async () => {
      const gaps = spread(TRIALS, -20, 200);
      const results = await concurrently(TRIALS, 50, async (n) => {
        const { id } = await pending();
        const handle = w.stack.temporal.client.workflow.getHandle(id);
        // When the DELETE has already closed the run, Temporal refuses the operator's late signal:
        // that refusal is the right answer to the operator, not a failure of the race.
        const signalled = sleep(-gaps[n]).then(() =>
          handle.signal(cancelSignal, 'op').catch((error: unknown) => {
            if (!(error instanceof WorkflowNotFoundError)) throw error;
          }),
        );
        await sleep(gaps[n]);
        const answer = await w.api.cancel(id);
        await signalled;
        const final = await w.api.waitFor(id, ...TERMINAL_STATUSES);
        const what = `trial ${n} (${id}, DELETE ${gaps[n]} ms after the signal)`;
        const problems = cancelProblems(what, answer);
        const cancels = final.transitions.filter((t: { to: string }) => t.to === 'CANCELLED');
        if (final.status !== 'CANCELLED' || final.statusReason !== 'requested' || cancels.length !== 1) {
          problems.push(`${what}: ended ${final.status}(${final.statusReason}) with transitions [${statusesOf(final).join(', ')}]`);
        }
        return problems;
      });
      expect(results.flat()).toEqual([]);
    }, 120_000);
  });

  describe('a change racing a cancel', () => {
    const TRIALS = 30;

    test(`PATCH and DELETE at once: a 200 to the PATCH means the change was recorded before CANCELLED; otherwise 409 too_late naming CANCELLED (${TRIALS} trials)`, async () => {
      // Which request leaves first, and by how much: negative means the DELETE leads.
      const leads = spread(TRIALS, -40, 40);
      const tally = { patched: 0, refused: 0 };
      const results = await concurrently(TRIALS, 50, async (n) => {
        const { id } = await pending();
        const change = changeFor(n, `trial ${n}`);
        const [patched, cancelled] = await Promise.all([
          sleep(-leads[n]).then(() => w.api.patch(id, change)),
          sleep(leads[n]).then(() => w.api.cancel(id)),
        ]);
        const final = await w.api.waitFor(id, ...TERMINAL_STATUSES);
        tally[patched.status === 200 ? 'patched' : 'refused'] += 1;
        const what = `trial ${n} (${id}, ${change.content ? 'content' : 'reschedule'}, ${leads[n] >= 0 ? 'PATCH' : 'DELETE'} ${Math.abs(leads[n])} ms ahead)`;
        return [...cancelProblems(what, cancelled), ...changeProblems(what, change, patched, final)];
      });
      console.log(`PATCH vs DELETE: ${tally.patched} PATCHes answered 200, ${tally.refused} refused`);
      expect(results.flat()).toEqual([]);
    }, 120_000);

    test(`a PATCH while a cancel is pending or being written never answers "too late: already SCHEDULED/DEFERRED" (${TRIALS} trials)`, async () => {
      // Each trial: a first change, then a cancel (a DELETE or the operator's signal) and a second change
      // right behind it, so the second change meets a cancel that is accepted but not yet written.
      const gaps = spread(TRIALS, 0, 60);
      const results = await concurrently(TRIALS, 50, async (n) => {
        const { id } = await pending();
        const handle = w.stack.temporal.client.workflow.getHandle(id);
        const [early, late] = [changeFor(n, `trial ${n} first`), changeFor(n + 1, `trial ${n} second`)];
        const viaSignal = n % 3 === 2;
        const firstPatch = w.api.patch(id, early);
        await sleep(gaps[n]);
        const cancelled = viaSignal ? handle.signal(cancelSignal, 'op').then(() => undefined) : w.api.cancel(id);
        await sleep(gaps[n] / 3);
        const [first, second, cancelAnswer] = await Promise.all([firstPatch, w.api.patch(id, late), cancelled]);
        const final = await w.api.waitFor(id, ...TERMINAL_STATUSES);
        const what = `trial ${n} (${id}, ${viaSignal ? 'cancel signal' : 'DELETE'} ${gaps[n]} ms after the first PATCH)`;
        return [
          ...(cancelAnswer ? cancelProblems(what, cancelAnswer) : []),
          ...changeProblems(`${what}, first PATCH`, early, first, final),
          ...changeProblems(`${what}, second PATCH`, late, second, final),
        ];
      });
      expect(results.flat()).toEqual([]);
    }, 120_000);

    test(`the same on a DEFERRED notification: a PATCH that lost to a cancel is refused naming CANCELLED (${TRIALS} trials)`, async () => {
      const type = `race-held-${Date.now()}`;
      expect((await w.api.put(`/v1/types/${type}`, { deliveryEnabled: false })).status).toBe(200);
      const leads = spread(TRIALS, -40, 40);
      const results = await concurrently(TRIALS, 50, async (n) => {
        const userId = await w.recipient();
        const created = await w.api.create({ userId, type, channels: ['webhook'], content: { body: `held for ${userId}` } });
        const { id } = created.body;
        const held = await w.api.waitFor(id, 'DEFERRED', ...TERMINAL_STATUSES);
        const what = `trial ${n} (${id}, ${leads[n] >= 0 ? 'PATCH' : 'DELETE'} ${Math.abs(leads[n])} ms ahead)`;
        if (held.status !== 'DEFERRED') return [`${what}: never held, ended ${held.status}(${held.statusReason})`];
        await asleep(w, id);
        const change = { content: { body: `changed while held, trial ${n}` } };
        const [patched, cancelled] = await Promise.all([
          sleep(-leads[n]).then(() => w.api.patch(id, change)),
          sleep(leads[n]).then(() => w.api.cancel(id)),
        ]);
        const final = await w.api.waitFor(id, ...TERMINAL_STATUSES);
        return [...cancelProblems(what, cancelled), ...changeProblems(what, change, patched, final, { transitionExpected: false })];
      });
      expect(results.flat()).toEqual([]);
    }, 120_000);
  });

  test('a content-only PATCH while DEFERRED keeps it DEFERRED, and the new content is what is sent once released', async () => {
    const userId = await w.recipient();
    const type = `held-content-${Date.now()}`;
    expect((await w.api.put(`/v1/types/${type}`, { deliveryEnabled: false })).status).toBe(200);
    try {
      const created = await w.api.create({ userId, type, channels: ['webhook'], content: { body: 'the old text' } });
      const id = created.body.id;
      const held = await w.api.waitFor(id, 'DEFERRED', ...TERMINAL_STATUSES);
      expect([held.status, held.statusReason]).toEqual(['DEFERRED', 'delivery_off']);
      await asleep(w, id);

      const replacement = { title: 'Rewritten', body: 'the new text' };
      const patched = await w.api.patch(id, { content: replacement });
      expect(patched.status).toBe(200);
      expect(patched.body.content).toEqual(replacement);
      expect([patched.body.status, patched.body.statusReason]).toEqual(['DEFERRED', 'delivery_off']);

      // Still held a moment later, and the workflow itself says why.
      await sleep(1500);
      const after = (await w.api.get(id)).body;
      expect([after.status, after.statusReason]).toEqual(['DEFERRED', 'delivery_off']);
      expect(after.live).toMatchObject({ phase: 'DEFERRED', deferReason: 'delivery_off' });
      expect(after.content).toEqual(replacement);
      expect(postsFor(id)).toHaveLength(0);

      expect((await w.api.put(`/v1/types/${type}`, { deliveryEnabled: true })).status).toBe(200);
      const done = await w.api.waitFor(id, ...TERMINAL_STATUSES);
      expect(done.status).toBe('DELIVERED');
      const posts = postsFor(id);
      expect(posts).toHaveLength(1);
      expect(JSON.parse(posts[0].body).data).toMatchObject({ title: 'Rewritten', body: 'the new text' });
    } finally {
      await w.api.put(`/v1/types/${type}`, { deliveryEnabled: true });
    }
  });

  describe('`temporal workflow cancel` by an operator', () => {
    /** A webhook endpoint that holds every request `holdMs` before answering 204. */
    async function startSlowReceiver(holdMs: number) {
      const received: string[] = [];
      const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          received.push(String(req.headers['webhook-id']));
          setTimeout(() => res.writeHead(204).end(), holdMs);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`,
        received,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    }
    const closedRun = (id: string) =>
      eventually(
        () => w.stack.temporal.client.workflow.getHandle(id).describe().then((d) => d.status.name),
        (status) => status !== 'RUNNING',
        { what: `the run of ${id} to close` },
      );

    test('while SENDING: the send completes, Postgres says DELIVERED, one POST, and the run closes COMPLETED', async () => {
      const slow = await startSlowReceiver(3000);
      try {
        const userId = `races-slow-${Date.now()}`;
        expect((await w.api.registerWebhook(userId, slow.url)).status).toBe(201);
        const created = await w.api.create({ userId, channels: ['webhook'], content: { body: 'slowly' } });
        const id = created.body.id;
        const sending = await w.api.waitFor(id, 'SENDING', ...TERMINAL_STATUSES);
        expect(sending.status).toBe('SENDING');
        await w.stack.temporal.client.workflow.getHandle(id).cancel();

        const done = await w.api.waitFor(id, ...TERMINAL_STATUSES);
        expect([done.status, statusesOf(done)]).toEqual(['DELIVERED', ['SCHEDULED(accepted)', 'SENDING', 'DELIVERED']]);
        expect(await closedRun(id)).toBe('COMPLETED');
        await sleep(1000);
        expect(slow.received.filter((r) => r === id)).toHaveLength(1);
      } finally {
        await slow.close();
      }
    });

    test('while SCHEDULED: Postgres says CANCELLED(requested), nothing is sent, and the run closes CANCELLED', async () => {
      const { id } = await pending();
      await w.stack.temporal.client.workflow.getHandle(id).cancel();
      const done = await w.api.waitFor(id, ...TERMINAL_STATUSES);
      expect([done.status, done.statusReason]).toEqual(['CANCELLED', 'requested']);
      expect(await closedRun(id)).toBe('CANCELLED');
      expect(postsFor(id)).toHaveLength(0);
    });
  });
});

describe('a throttle token is never spent by a notification that ends CANCELLED', () => {
  // One token per recipient and no refill worth the name: the token is spent once, by the first send.
  const w = webhookWorld('races-throttle', { env: { THROTTLE_BURST: '1', THROTTLE_PER_HOUR: '1' } });
  const TRIALS = 30;
  const LEAD_MS = 1500;

  test(`a DELETE around the due time: cancelled leaves the token for the next notification, delivered spends it (${TRIALS} trials)`, async () => {
    const offsets = spread(TRIALS, -300, 300);
    const tally = { cancelled: 0, delivered: 0 };
    const results = await concurrently(TRIALS, 100, async (n) => {
      const userId = await w.recipient();
      const dueAt = Date.now() + LEAD_MS;
      const a = await w.api.create({ userId, channels: ['webhook'], scheduledAt: new Date(dueAt).toISOString(), content: { body: `A of trial ${n}` } });
      expect(a.status).toBe(202);
      await sleep(dueAt + offsets[n] - Date.now());
      const answer = await w.api.cancel(a.body.id);
      const what = `trial ${n} (${a.body.id}, DELETE at due${offsets[n] >= 0 ? '+' : ''}${offsets[n]} ms answered ${answerOf(answer)})`;
      const first = await w.api.waitFor(a.body.id, ...TERMINAL_STATUSES);

      const b = await w.api.create({ userId, channels: ['webhook'], content: { body: `B of trial ${n}` } });
      const second = await w.api.waitFor(b.body.id, 'DEFERRED', ...TERMINAL_STATUSES);
      const seen = `A ended ${first.status}(${first.statusReason}), B [${statusesOf(second).join(', ')}]`;
      if (first.status === 'CANCELLED') {
        tally.cancelled += 1;
        if (second.status !== 'DELIVERED' || statusesOf(second).includes('DEFERRED(throttled)')) {
          return [`${what}: ${seen}: the cancelled A spent the recipient's token`];
        }
      } else if (first.status === 'DELIVERED') {
        tally.delivered += 1;
        if (second.status !== 'DEFERRED' || second.statusReason !== 'throttled') return [`${what}: ${seen}: A's send did not spend the token`];
      } else {
        return [`${what}: ${seen}`];
      }
      return [];
    });
    console.log(`throttle race: ${tally.cancelled} A cancelled, ${tally.delivered} A delivered`);
    expect(results.flat()).toEqual([]);
  }, 120_000);
});
