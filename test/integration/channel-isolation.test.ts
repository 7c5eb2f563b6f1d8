import http from 'node:http';
import type net from 'node:net';
import type { ChannelAdapter, SendRequest } from '../../src/channels/types';
import { eventually } from '../setup/http';
import { client } from '../setup/scenario';
import { startTestStack, type TestStack } from '../setup/stack';

/*
 * Each channel sends from a task queue of its own, with its own worker slots: a provider that hangs
 * holds its channel's slots and nothing else. The hanging provider is a loopback webhook endpoint
 * that takes requests and never answers; the other channel is Telegram through an in-process
 * adapter that records when each message went out.
 */

/** An HTTP endpoint that accepts every request and never answers it. */
async function startHangingEndpoint() {
  const sockets = new Set<net.Socket>();
  let open = 0;
  const server = http.createServer((req) => {
    open++;
    req.on('close', () => open--);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** Requests that arrived and are still waiting for an answer. */
    open: () => open,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}

function recordingTelegram(sent: Array<{ request: SendRequest; at: number }>): ChannelAdapter {
  return { channel: 'telegram', send: async (request) => (sent.push({ request, at: Date.now() }), { providerMessageId: `tg-${sent.length}` }) };
}

type Api = ReturnType<typeof client>;
const due = (api: Api, userId: string, channel: 'webhook' | 'telegram', n: number) =>
  Promise.all(Array.from({ length: n }, () => api.create({ userId, channels: [channel], content: { body: `to ${channel}` } })));

describe('a provider that hangs', () => {
  let stack: TestStack;
  let api: Api;
  let hanging: Awaited<ReturnType<typeof startHangingEndpoint>>;
  const sent: Array<{ request: SendRequest; at: number }> = [];

  beforeAll(async () => {
    hanging = await startHangingEndpoint();
    stack = await startTestStack({
      // Two slots for webhook sends, and only two for the worker's other activities: were the sends
      // all on one queue, two hanging webhook calls would hold every slot.
      env: { SEND_WEBHOOK_MAX_CONCURRENT: '2', WORKER_MAX_CONCURRENT_ACTIVITIES: '2', RETRY_WEBHOOK_ATTEMPT_TIMEOUT: '60s' },
      adapters: { telegram: recordingTelegram(sent) },
    });
    api = client(stack);
  });
  afterAll(async () => {
    await hanging.close();
    await stack?.stop();
  });

  test("holds only its own channel's slots: another channel's notifications are delivered meanwhile", async () => {
    expect((await api.registerWebhook('isolation-hung', `${hanging.url}/hook`)).status).toBe(201);
    expect((await api.post('/v1/users/isolation-ok/telegram-chats', { chatId: 4242 })).status).toBe(201);

    const stuck = await due(api, 'isolation-hung', 'webhook', 6);
    expect(stuck.map((r) => r.status)).toEqual(Array(6).fill(202));
    await eventually(async () => hanging.open(), (open) => open === 2, { what: 'two webhook sends to hang, one per slot' });

    const started = Date.now();
    const others = await due(api, 'isolation-ok', 'telegram', 4);
    for (const created of others) await api.waitFor(created.body.id, 'DELIVERED');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sent.map((s) => s.request.notificationId).sort()).toEqual(others.map((r) => r.body.id).sort());

    // Meanwhile the webhook channel stayed within its slots: two sends with the provider, the other
    // four waiting in the webhook queue for a slot, still SCHEDULED.
    expect(hanging.open()).toBe(2);
    const statuses = await Promise.all(stuck.map(async (created) => (await api.get(created.body.id)).body.status));
    expect(statuses.sort()).toEqual(['SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'SENDING', 'SENDING']);
  });
});

describe("a channel's rate cap", () => {
  let stack: TestStack;
  const sent: Array<{ request: SendRequest; at: number }> = [];

  beforeAll(async () => {
    stack = await startTestStack({ env: { SEND_TELEGRAM_MAX_PER_SECOND: '2' }, adapters: { telegram: recordingTelegram(sent) } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('spreads a burst over time: 10 sends at 2 per second take seconds, not a moment', async () => {
    const api = client(stack);
    expect((await api.post('/v1/users/capped/telegram-chats', { chatId: 4343 })).status).toBe(201);
    const created = await due(api, 'capped', 'telegram', 10);
    for (const c of created) await api.waitFor(c.body.id, 'DELIVERED');
    const times = sent.map((s) => s.at).sort((a, b) => a - b);
    expect(times).toHaveLength(10);
    // At 2/s, 10 sends need about 4 s after a first burst of 2; uncapped they take well under a second.
    expect(times[9] - times[0]).toBeGreaterThanOrEqual(3000);
  });
});
