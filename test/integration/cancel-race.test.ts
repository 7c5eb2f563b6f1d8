import { TERMINAL_STATUSES } from '../../workflows/definitions';
import type { ApiResponse } from '../setup/http';
import { client } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';
import { startWebhookReceiver, type WebhookReceiver } from '../setup/webhook-receiver';

// Acceptance: "A cancel racing the due time: over 200 trials, the API's answer always matches what
// happened (never 'cancelled' for a notification that was sent, never a send after a 'cancelled' answer)."
const TRIALS = 200;
/** Trials in flight at once: each lane runs its trials one after the other. */
const LANES = 25;
/** How far ahead each notification is due. */
const LEAD_MS = { min: 700, max: 1800 };
/**
 * Where the DELETE lands: anywhere within ±300 ms of an aim point that starts at the due time and
 * follows the race (a staircase: later after a "cancelled", earlier after a "too late"). Sending
 * begins some hundreds of milliseconds after the due time on a loaded machine (timer, due-time
 * checks, recording SENDING), so aiming at the due time itself would make nearly every trial a cancel.
 */
const JITTER_MS = { min: -300, max: 300 };
const AIM_STEP_MS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const between = ({ min, max }: { min: number; max: number }) => min + Math.random() * (max - min);

interface Trial {
  n: number;
  userId: string;
  id: string;
  dueAt: number;
  /** Milliseconds between the due time and the moment the DELETE was sent. */
  offset: number;
  answer: ApiResponse;
}

describe('a cancel racing the due time', () => {
  let stack: TestStack;
  let receiver: WebhookReceiver;
  let api: ReturnType<typeof client>;
  const users = Array.from({ length: LANES }, (_, i) => `race-${i}`);

  beforeAll(async () => {
    stack = await startTestStack({ env: { THROTTLE_BURST: '0' } });
    receiver = await startWebhookReceiver();
    api = client(stack);
    for (const userId of users) expect((await api.registerWebhook(userId, `${receiver.url}/${userId}`)).status).toBe(201);
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const postsFor = (id: string) => receiver.received.filter((r) => r.headers['webhook-id'] === id);

  let aim = 0;
  async function runTrial(n: number, userId: string): Promise<Trial> {
    const dueAt = Math.round(Date.now() + between(LEAD_MS));
    const created = await api.create({
      userId,
      channels: ['webhook'],
      scheduledAt: new Date(dueAt).toISOString(),
      content: { body: `race trial ${n}` },
    });
    expect(created.status).toBe(202);
    await sleep(dueAt + aim + between(JITTER_MS) - Date.now());
    const offset = Math.round(Date.now() - dueAt);
    const answer = await api.cancel(created.body.id);
    aim += answer.status === 200 ? AIM_STEP_MS : -AIM_STEP_MS;
    return { n, userId, id: created.body.id, dueAt, offset, answer };
  }

  test(`over ${TRIALS} trials the answer to DELETE always matches what happened`, async () => {
    const started = Date.now();
    const trials: Trial[] = [];
    let next = 0;
    await Promise.all(
      users.map(async (userId, lane) => {
        await sleep(lane * 60); // spread the lanes so due times do not all coincide
        while (next < TRIALS) trials.push(await runTrial(next++, userId));
      }),
    );
    expect(trials).toHaveLength(TRIALS);

    // Every notification reaches a terminal state; then give a stray send time to show up.
    const finals = await Promise.all(trials.map((t) => api.waitFor(t.id, ...TERMINAL_STATUSES)));
    await sleep(1500);

    const problems: string[] = [];
    const counts = { cancelled: 0, tooLate: 0 };
    trials.forEach((t, i) => {
      const final = finals[i];
      const posts = postsFor(t.id);
      const sending = final.transitions.filter((x: { to: string }) => x.to === 'SENDING');
      const what = `trial ${t.n} (${t.id}, DELETE at due${t.offset >= 0 ? '+' : ''}${t.offset}ms)`;
      if (t.answer.status === 200 && t.answer.body?.status === 'CANCELLED') {
        counts.cancelled += 1;
        if (final.status !== 'CANCELLED' || final.statusReason !== 'requested') {
          problems.push(`${what}: answered cancelled, ended ${final.status}(${final.statusReason})`);
        }
        if (posts.length > 0) problems.push(`${what}: answered cancelled, receiver got ${posts.length} POST(s)`);
        if (sending.length > 0 || final.attempts.length > 0 || final.sendingStartedAt !== null) {
          problems.push(`${what}: answered cancelled, yet sending began at ${final.sendingStartedAt}`);
        }
      } else if (t.answer.status === 409 && t.answer.body?.error?.code === 'too_late') {
        counts.tooLate += 1;
        if (final.status !== 'DELIVERED') problems.push(`${what}: answered too_late, ended ${final.status}(${final.statusReason})`);
        if (posts.length !== 1) problems.push(`${what}: answered too_late, receiver got ${posts.length} POST(s)`);
        if (sending.length !== 1) problems.push(`${what}: answered too_late, ${sending.length} SENDING transitions`);
        if (t.answer.body.error.details?.sendingStartedAt !== final.sendingStartedAt) {
          problems.push(
            `${what}: too_late names sendingStartedAt ${t.answer.body.error.details?.sendingStartedAt}, the record says ${final.sendingStartedAt}`,
          );
        }
      } else {
        problems.push(`${what}: unexpected answer ${t.answer.status} ${JSON.stringify(t.answer.body)}`);
      }
    });

    const lateOffsets = trials.filter((t) => t.answer.status === 409).map((t) => t.offset);
    const cancelOffsets = trials.filter((t) => t.answer.status === 200).map((t) => t.offset);
    const lags = finals
      .map((f, i) => (f.sendingStartedAt ? Date.parse(f.sendingStartedAt) - trials[i].dueAt : undefined))
      .filter((lag): lag is number => lag !== undefined)
      .sort((a, b) => a - b);
    console.log(
      `cancel race: ${TRIALS} trials in ${((Date.now() - started) / 1000).toFixed(1)} s, ${LANES} at a time: ` +
        `${counts.cancelled} cancelled (DELETE at due${Math.min(...cancelOffsets)}…${Math.max(...cancelOffsets)} ms), ` +
        `${counts.tooLate} too_late (DELETE at due${Math.min(...lateOffsets)}…${Math.max(...lateOffsets)} ms), ` +
        `${receiver.received.length} webhook POSTs; sending began due+${lags[0]}…${lags.at(-1)} ms ` +
        `(median ${lags[Math.floor(lags.length / 2)]}); final aim due+${aim} ms`,
    );

    expect(problems).toEqual([]);
    expect(counts.cancelled + counts.tooLate).toBe(TRIALS);
    // Both outcomes must happen often, or the race was not exercised.
    expect(counts.cancelled).toBeGreaterThanOrEqual(10);
    expect(counts.tooLate).toBeGreaterThanOrEqual(10);
    // Nothing was sent that the trials do not account for.
    expect(receiver.received).toHaveLength(counts.tooLate);
  }, 240_000);
});
