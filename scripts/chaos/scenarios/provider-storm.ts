// The provider misbehaves in every documented way at once: 500s, 429 with Retry-After, requests
// that time out, 404 and 410. Each notification's attempts stay within its channel's policy, no
// request comes before the Retry-After it was given, and a permanent error disables the target
// after a single attempt.
import { startReceiver, type Reply } from '../receiver';
import { check, type Scenario } from '../scenario';
import { Herald } from '../world';

const MAX_ATTEMPTS = 4;
const RETRY_AFTER_S = 2;

/** Each behaviour: what the provider answers in turn, and how the notification must end. */
const BEHAVIOURS: Record<string, { replies: Reply[]; ends: 'DELIVERED' | 'FAILED'; attempts: number; disables?: boolean }> = {
  flaky: { replies: [{ status: 500 }, { status: 503 }, { status: 204 }], ends: 'DELIVERED', attempts: 3 },
  busy: { replies: [{ status: 429, retryAfterSeconds: RETRY_AFTER_S }, { status: 204 }], ends: 'DELIVERED', attempts: 2 },
  slow: { replies: ['hang', { status: 204 }], ends: 'DELIVERED', attempts: 2 },
  down: { replies: Array(MAX_ATTEMPTS + 2).fill({ status: 500 }), ends: 'FAILED', attempts: MAX_ATTEMPTS },
  gone404: { replies: [{ status: 404 }], ends: 'FAILED', attempts: 1, disables: true },
  gone410: { replies: [{ status: 410 }], ends: 'FAILED', attempts: 1, disables: true },
};

export const providerStorm: Scenario = {
  name: 'provider storm',
  async run(ctx) {
    const perBehaviour = ctx.quick ? 4 : 20;
    const receiver = await startReceiver();
    const herald = await Herald.start({
      ...ctx,
      name: 'provider-storm',
      env: {
        RETRY_WEBHOOK_INITIAL_INTERVAL: '200ms',
        RETRY_WEBHOOK_MAX_INTERVAL: '1s',
        RETRY_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        WEBHOOK_TIMEOUT: '1s',
        RETRY_WEBHOOK_ATTEMPT_TIMEOUT: '3s',
      },
    });
    const api = herald.client;
    const cases: Array<{ id: string; userId: string; behaviour: string }> = [];
    for (const [behaviour, b] of Object.entries(BEHAVIOURS)) {
      for (let i = 0; i < perBehaviour; i++) {
        const userId = `storm-${behaviour}-${i}`;
        receiver.script(`/${userId}`, b.replies);
        await api.registerWebhook(userId, `${receiver.url}/${userId}`);
        const r = await api.create({ userId, channels: ['webhook'], content: { body: behaviour } });
        if (r.status !== 202) throw new Error(`create answered HTTP ${r.status}`);
        cases.push({ id: r.body.id, userId, behaviour });
      }
    }
    ctx.say(`  ${cases.length} notifications against a misbehaving provider`);
    const details = await api.settle(cases.map((c) => c.id), 120_000);

    let wrongEnd = 0;
    let overCap = 0;
    let beforeRetryAfter = 0;
    let notDisabled = 0;
    let duplicates = 0;
    for (const c of cases) {
      const b = BEHAVIOURS[c.behaviour];
      const requests = receiver.of(c.id);
      if (details.get(c.id)?.status !== b.ends) wrongEnd++;
      if (requests.length > MAX_ATTEMPTS || requests.length !== b.attempts) overCap++;
      duplicates += Math.max(0, requests.filter((a) => a.reply !== 'hang' && a.reply.status < 300).length - 1);
      requests.forEach((a, i) => {
        if (a.reply !== 'hang' && a.reply.retryAfterSeconds && requests[i + 1] && requests[i + 1].at < a.at + a.reply.retryAfterSeconds * 1000) beforeRetryAfter++;
      });
      if (b.disables) {
        const targets = await api.call('GET', `/v1/users/${c.userId}/targets`);
        if (!targets.body?.items?.[0]?.disabledAt) notDisabled++;
      }
    }
    await herald.stop();
    await receiver.close();
    return {
      load: `${cases.length}: ${Object.keys(BEHAVIOURS).join(', ')}`,
      faults: `500/503, 429 Retry-After ${RETRY_AFTER_S} s, timeouts, 404, 410`,
      lost: wrongEnd,
      duplicates,
      serverErrors: api.tally.serverErrors,
      checks: [
        check('each ends as its provider answers dictate (DELIVERED or FAILED)', wrongEnd === 0, `${wrongEnd} ended otherwise`),
        check(`attempts as the policy says, never over ${MAX_ATTEMPTS}`, overCap === 0, `${overCap} off`),
        check('no request before its Retry-After', beforeRetryAfter === 0, `${beforeRetryAfter} early`),
        check('404/410 disable the target after one attempt', notDisabled === 0, `${notDisabled} still enabled`),
      ],
    };
  },
};
