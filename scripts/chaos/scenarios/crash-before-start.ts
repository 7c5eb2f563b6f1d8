// The API process dies between committing a notification and starting its workflow (an injected
// fault). The client got no answer and retries with the same key and body: it gets the same
// notification, which has one row and one workflow, and is delivered once.
import { mapLimit } from '../../bench/timing';
import { startReceiver } from '../receiver';
import { check, deliveryFigures, recipients, type Scenario } from '../scenario';
import { Herald } from '../world';

export const crashBeforeStart: Scenario = {
  name: 'API crash between accept and start',
  async run(ctx) {
    const n = ctx.quick ? 10 : 30;
    const receiver = await startReceiver();
    const herald = await Herald.start({ ...ctx, name: 'crash-before-start' });
    const api = herald.client;
    const [user] = await recipients(api, receiver, 'crash', 1);

    // An API that kills itself after its first commit; the other requests in flight die with it.
    await herald.api.stop();
    await herald.startApi({ FAULT_INJECTION: 'crash_before_workflow_start' });
    const died = herald.api.expectExit();
    const requests = Array.from({ length: n }, (_, i) => ({ key: `crash-${i}`, body: { userId: user, channels: ['webhook'], content: { body: `crash ${i}` } } }));
    const first = await Promise.all(requests.map((r) => api.create(r.body, r.key)));
    await died;
    const unanswered = first.filter((a) => a.status === 0).length;
    ctx.say(`  the API died; ${unanswered} of ${n} requests got no answer`);

    await herald.startApi();
    // Committed before the crash, with no workflow: what the retries must heal.
    const before = await api.call('GET', `/v1/notifications?userId=${user}&limit=200`);
    const committed = Array.isArray(before.body?.items) ? before.body.items.length : 0;
    const retries = await mapLimit(requests, 5, (r) => api.create(r.body, r.key));
    const accepted = retries.filter((r) => r.status === 202 || r.status === 200).map((r) => ({ id: r.body.id as string, dueAt: 0 }));
    const details = await api.settle(accepted.map((a) => a.id), 120_000);
    const figures = deliveryFigures(accepted, details, receiver);
    const listed = await api.call('GET', `/v1/notifications?userId=${user}&limit=200`);
    const rows = Array.isArray(listed.body?.items) ? listed.body.items.length : -1;
    let extraRuns = 0;
    for (const { id } of accepted) {
      let runs = 0;
      for await (const _ of ctx.temporal.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs++;
      extraRuns += Math.abs(runs - 1);
    }
    await herald.stop();
    await receiver.close();
    return {
      load: `${n} creates in flight`,
      faults: 'API SIGKILL after the commit, before the start',
      lost: figures.lost + (n - accepted.length),
      duplicates: figures.duplicates,
      serverErrors: api.tally.serverErrors,
      checks: [
        check('the crash happened after a commit (requests without an answer, rows without a workflow)', unanswered > 0 && committed > 0, `${unanswered} unanswered, ${committed} committed`),
        check("every retry with the same key is accepted and delivered", accepted.length === n && figures.lost === 0, `${accepted.length}/${n} accepted, ${figures.lost} not delivered`),
        check('one row per key', rows === n, `${rows} rows for ${n} keys`),
        check('one workflow run per notification', extraRuns === 0, `${extraRuns} runs too many or missing`),
        check('delivered once', figures.duplicates === 0, `${figures.duplicates} twice`),
      ],
    };
  },
};
