import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../setup/http';
import { createFailed, inSeconds, webhookWorld } from '../setup/scenario';

const REPORT_KEY = 'report-key-for-tests';

interface Received {
  path: string;
  apiKey?: string;
  body: any;
}

/** The product platform's report endpoint, on loopback. */
async function startReportReceiver(status = 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', apiKey: req.headers['x-api-key'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/platform`,
    received,
    reportsFor: (id: string) => received.filter((r) => r.body.pushId === id),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port with nothing listening: the receiver is down for the whole run. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('delivery reports', () => {
  let receiver: Awaited<ReturnType<typeof startReportReceiver>>;
  beforeAll(async () => {
    receiver = await startReportReceiver();
  });
  afterAll(() => receiver?.close());

  describe('to a receiver that is up', () => {
    // The receiver's URL is only known once it listens, so the settings are read when the stack starts.
    const w = webhookWorld('reports', () => ({
      env: {
        REPORT_URL: receiver.url,
        REPORT_API_KEY: REPORT_KEY,
        THROTTLE_BURST: '0',
        RETRY_WEBHOOK_INITIAL_INTERVAL: '100ms',
        RETRY_WEBHOOK_MAX_ATTEMPTS: '2',
      },
    }));

    const statusesReported = async (id: string, count: number) =>
      (
        await eventually(
          async () => receiver.reportsFor(id),
          (reports) => reports.length >= count,
          { what: `${count} reports for ${id}` },
        )
      ).map((r) => r.body.status);

    test('SCHEDULED at acceptance, then COMPLETED with the contract fields and the x-api-key', async () => {
      const userId = await w.recipient();
      const created = await w.api.create({
        userId,
        type: 'bedtime',
        channels: ['webhook'],
        content: { body: 'sleep well' },
        metadata: { sessionId: 's-42', plan: 'gold' },
      });
      await w.api.waitFor(created.body.id, 'DELIVERED');
      expect(await statusesReported(created.body.id, 2)).toEqual(['SCHEDULED', 'COMPLETED']);
      const [scheduled, completed] = receiver.reportsFor(created.body.id);
      expect(scheduled.path).toBe('/platform/push-delivery/report');
      expect(scheduled.apiKey).toBe(REPORT_KEY);
      expect(scheduled.body).toEqual({
        pushId: created.body.id,
        status: 'SCHEDULED',
        timestamp: expect.any(String),
        pushType: 'bedtime',
        sessionId: 's-42',
        userId,
        scheduledAt: created.body.scheduledAt,
        metadata: { sessionId: 's-42', plan: 'gold' },
      });
      expect(completed.body).toEqual(expect.objectContaining({ status: 'COMPLETED', channel: 'webhook', retryCount: 0, sessionId: 's-42', pushType: 'bedtime' }));
    });

    test('FAILED carries the error and the retry count', async () => {
      const id = await createFailed(w.api, w.receiver, { userId: await w.recipient(), channels: ['webhook'], content: { body: 'nope' } });
      expect(await statusesReported(id, 2)).toEqual(['SCHEDULED', 'FAILED']);
      expect(receiver.reportsFor(id)[1].body).toEqual(
        expect.objectContaining({ status: 'FAILED', channel: 'webhook', retryCount: 1, error: 'webhook: webhook_server_error (receiver answered HTTP 500)' }),
      );
    });

    test('a replaced notification is reported CANCELLED under its own sessionId and type', async () => {
      const userId = await w.recipient();
      const older = await w.api.create({
        userId,
        type: 'bedtime',
        channels: ['webhook'],
        scheduledAt: inSeconds(3600),
        collapseKey: 'nightly',
        content: { body: 'old' },
        metadata: { sessionId: 'old-session' },
      });
      const newer = await w.api.create({
        userId,
        type: 'bedtime-v2',
        channels: ['webhook'],
        scheduledAt: inSeconds(3600),
        collapseKey: 'nightly',
        content: { body: 'new' },
        metadata: { sessionId: 'new-session' },
      });
      await w.api.waitFor(older.body.id, 'CANCELLED');
      expect(await statusesReported(older.body.id, 2)).toEqual(['SCHEDULED', 'CANCELLED']);
      expect(receiver.reportsFor(older.body.id)[1].body).toEqual(
        expect.objectContaining({ status: 'CANCELLED', sessionId: 'old-session', pushType: 'bedtime' }),
      );
      await w.api.cancel(newer.body.id);
      expect(await statusesReported(newer.body.id, 2)).toEqual(['SCHEDULED', 'CANCELLED']);
      expect(receiver.reportsFor(newer.body.id)[1].body.sessionId).toBe('new-session');
    });
  });

  describe('to a receiver that is down for the whole run', () => {
    let downUrl = '';
    beforeAll(async () => {
      downUrl = `http://127.0.0.1:${await closedPort()}/platform`;
    });
    const w = webhookWorld('reports-down', () => ({ env: { REPORT_URL: downUrl, REPORT_API_KEY: REPORT_KEY, THROTTLE_BURST: '0' } }));

    test('every notification still reaches its right terminal state on time', async () => {
      const userId = await w.recipient();
      const due = inSeconds(2);
      const delivered = await w.api.create({ userId, channels: ['webhook'], scheduledAt: due, content: { body: 'anyway' } });
      const cancelled = await w.api.create({ userId, channels: ['webhook'], scheduledAt: inSeconds(3600), content: { body: 'never' } });
      expect((await w.api.cancel(cancelled.body.id)).body.status).toBe('CANCELLED');
      const done = await w.api.waitFor(delivered.body.id, 'DELIVERED');
      // On time: the send began within seconds of the due time, reports failing all along.
      expect(Date.parse(done.sendingStartedAt) - Date.parse(due)).toBeLessThan(5000);
    });
  });

  describe('to a receiver that answers 500', () => {
    let failing: Awaited<ReturnType<typeof startReportReceiver>>;
    beforeAll(async () => {
      failing = await startReportReceiver(500);
    });
    afterAll(() => failing?.close());
    const w = webhookWorld('reports-500', () => ({ env: { REPORT_URL: failing.url, REPORT_API_KEY: REPORT_KEY, THROTTLE_BURST: '0' } }));

    test('a report is tried three times, then dropped; the notification is delivered all the same', async () => {
      const userId = await w.recipient();
      const created = await w.api.create({ userId, channels: ['webhook'], scheduledAt: inSeconds(3600), content: { body: 'later' } });
      const tries = await eventually(
        async () => failing.reportsFor(created.body.id).length,
        (n) => n >= 3,
        { what: 'three tries of the SCHEDULED report', timeoutMs: 15_000 },
      );
      expect(tries).toBe(3);
      await new Promise((r) => setTimeout(r, 5000));
      expect(failing.reportsFor(created.body.id)).toHaveLength(3);
      expect((await w.api.get(created.body.id)).body.status).toBe('SCHEDULED');
    });
  });
});
