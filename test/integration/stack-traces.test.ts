// The `__stack_trace` query (the Temporal UI's "Stack Trace" tab) is off by default, because capturing
// a stack for every promise costs the workflow threads CPU on every task; an operator can turn it on.
// Herald runs as a real process here: the setting reaches the SDK's workflow threads through the
// process environment, which jest's sandbox does not pass on.
import { Client, Connection } from '@temporalio/client';
import { client, inSeconds } from '../setup/scenario';
import { startIsolatedService } from '../setup/service';

/**
 * What `__stack_trace` answers for a sleeping notification: the stack, or the error it failed with.
 * A change wakes its run first: until then it waits on its start delay and has no code running to ask.
 */
async function stackTraceQuery(extraEnv: Record<string, string>): Promise<{ stack?: string; error?: string }> {
  const service = await startIsolatedService(extraEnv);
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const api = client({ url: `http://127.0.0.1:${service.port}` });
  try {
    const created = await api.create({ userId: 'stack-trace-user', channels: ['webhook'], scheduledAt: inSeconds(3600), content: { body: 'hi' } });
    expect(created.status).toBe(202);
    expect((await api.patch(created.body.id, { content: { body: 'changed' } })).status).toBe(200);
    const answer = await new Client({ connection }).workflow
      .getHandle(created.body.id)
      .query<string>('__stack_trace')
      .then(
        (stack) => ({ stack }),
        (err: Error) => ({ error: err.message }),
      );
    await api.cancel(created.body.id);
    return answer;
  } finally {
    await connection.close();
    await service.stop();
  }
}

describe('workflow stack traces', () => {
  it('are refused with a clear message by default', async () => {
    const answer = await stackTraceQuery({});
    expect(answer.stack).toBeUndefined();
    expect(answer.error).toMatch(/stack traces are not enabled/);
  });

  it('show where a sleeping notification waits when WORKER_WORKFLOW_STACK_TRACES=true', async () => {
    const answer = await stackTraceQuery({ WORKER_WORKFLOW_STACK_TRACES: 'true' });
    expect(answer.error).toBeUndefined();
    expect(answer.stack).toMatch(/at runNotification \(.*workflows\/notification\.ts:\d+/);
  });
});
