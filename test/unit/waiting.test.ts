import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../setup/http';
import { client } from '../setup/scenario';

// The waiting helpers every integration test leans on: a wait that ends without its condition must fail the test.

describe('eventually', () => {
  test('returns the first value that satisfies the condition', async () => {
    let n = 0;
    await expect(eventually(async () => ++n, (v) => v >= 3, { timeoutMs: 5000 })).resolves.toBe(3);
  });

  test('throws when the time is up, naming what was awaited and the last value seen', async () => {
    let n = 0;
    const waiting = eventually(async () => ({ polls: ++n }), () => false, { what: 'the moon to turn blue', timeoutMs: 300 });
    await expect(waiting).rejects.toThrow(/timed out after 0\.3 s waiting for the moon to turn blue; last seen: \{"polls":\d+\}/);
  });
});

describe('waiting for a notification', () => {
  let server: http.Server;
  let url: string;
  const detail = {
    id: 'ntf_stuck',
    status: 'DEFERRED',
    statusReason: 'throttled',
    transitions: [
      { to: 'SCHEDULED', reason: 'accepted' },
      { to: 'DEFERRED', reason: 'throttled' },
    ],
  };

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(detail)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('fails with the status, reason and transitions last seen when the awaited status never comes', async () => {
    const waiting = client({ url }).waitUntil('ntf_stuck', (d) => d.status === 'DELIVERED', 'to reach DELIVERED', 300);
    await expect(waiting).rejects.toThrow(
      'waiting for notification ntf_stuck to reach DELIVERED; last seen: DEFERRED(throttled), transitions [SCHEDULED(accepted), DEFERRED(throttled)]',
    );
  });

  test('returns the detail once the condition holds', async () => {
    await expect(client({ url }).waitFor('ntf_stuck', 'DELIVERED', 'DEFERRED')).resolves.toMatchObject({ status: 'DEFERRED' });
  });
});
