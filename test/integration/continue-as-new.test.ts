import { createLogger } from '../../src/logger';
import { resolveTemporalBinary } from '../../src/temporal/binary';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { freePort } from '../setup/net';
import { statusesOf, webhookWorld } from '../setup/scenario';

// A dev server that suggests continue-as-new after 40 history events, so a held notification reaches
// the point within seconds that a real one reaches after hours of re-checks.
let server: DevServer;
beforeAll(async () => {
  server = await startDevServer({
    binary: resolveTemporalBinary(process.env.TEMPORAL_CLI_PATH),
    port: await freePort(),
    uiPort: null,
    namespace: 'default',
    log: createLogger('error'),
    extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'],
  });
  process.env.CAN_TEST_TEMPORAL_ADDRESS = server.address;
});
afterAll(() => server?.stop());

describe('a notification held for a long time', () => {
  const w = webhookWorld('held', {
    env: {
      get TEMPORAL_ADDRESS() {
        return process.env.CAN_TEST_TEMPORAL_ADDRESS!;
      },
      DELIVERY_OFF_RECHECK: '1s',
      THROTTLE_BURST: '0',
    } as Record<string, string>,
  });

  test('continues as a new run instead of outgrowing its history, and carries on exactly where it was', async () => {
    const userId = await w.recipient();
    await w.api.put('/v1/types/held-long', { deliveryEnabled: false });
    const created = await w.api.create({ userId, type: 'held-long', channels: ['webhook'], content: { body: 'eventually' } });
    const id = created.body.id;

    const runs = async () => {
      const found = [];
      for await (const run of w.stack.temporal.client.workflow.list({ query: `WorkflowId = '${id}'` })) found.push(run.status.name);
      return found;
    };
    const deadline = Date.now() + 60_000;
    let seen = await runs();
    while (!seen.includes('CONTINUED_AS_NEW') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      seen = await runs();
    }
    expect(seen).toContain('CONTINUED_AS_NEW');
    expect((await w.api.get(id)).body.status).toBe('DEFERRED');

    // The continued run still answers updates and signals under the same notification id.
    const moved = await w.api.patch(id, { content: { body: 'eventually, rewritten' } });
    expect(moved.status).toBe(200);
    expect((await w.api.waitFor(id, 'DEFERRED')).status).toBe('DEFERRED');
    await w.api.put('/v1/types/held-long', { deliveryEnabled: true });
    const done = await w.api.waitFor(id, 'DELIVERED');
    expect(statusesOf(done)).toEqual([
      'SCHEDULED(accepted)',
      'DEFERRED(delivery_off)',
      // The content change is recorded; a content-only change leaves it deferred for the same reason.
      'DEFERRED(delivery_off)',
      'SENDING',
      'DELIVERED',
    ]);
    const posts = w.receiver.received.filter((r) => r.headers['webhook-id'] === id);
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0].body).data.body).toBe('eventually, rewritten');
  });
});
