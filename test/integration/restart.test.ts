import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { call } from '../setup/http';
import { freePort } from '../setup/net';
import { client } from '../setup/scenario';
import { startService } from '../setup/service';
import { startWebhookReceiver, type WebhookReceiver } from '../setup/webhook-receiver';

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.destroy() && resolve(true));
    socket.once('error', () => resolve(false));
  });

describe('the embedded default across a restart', () => {
  let receiver: WebhookReceiver;
  let dataDir: string;
  let env: Record<string, string>;
  let running: Awaited<ReturnType<typeof startService>> | undefined;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-restart-'));
    env = {
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
    };
  });
  afterAll(async () => {
    // SIGTERM: a SIGKILL here would leave the service's dev server running after the suite.
    running?.child.kill('SIGTERM');
    await running?.exited;
    await receiver?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('a notification due while the service is down fires exactly once after it comes back', async () => {
    const api = `http://127.0.0.1:${env.PORT}`;
    running = await startService(env);
    await call(api, 'POST', '/v1/users/sleeper/webhooks', { body: { url: receiver.url } });
    const dueAt = Date.now() + 8000;
    const created = await call(api, 'POST', '/v1/notifications', {
      headers: { 'Idempotency-Key': 'across-restart' },
      body: { userId: 'sleeper', channels: ['webhook'], scheduledAt: new Date(dueAt).toISOString(), content: { body: 'still here' } },
    });
    expect(created.status).toBe(202);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    running = undefined;
    // Clean stop: API, worker and the dev server are all gone.
    expect(await portOpen(Number(env.PORT))).toBe(false);
    expect(await portOpen(Number(env.TEMPORAL_DEV_PORT))).toBe(false);

    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now()) + 1000));
    expect(receiver.received).toHaveLength(0);

    running = await startService(env);
    const done = await client({ url: api }).waitFor(created.body.id, 'DELIVERED', 'FAILED');
    expect(done.status).toBe('DELIVERED');
    await new Promise((r) => setTimeout(r, 2000));
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0].body).data.body).toBe('still here');

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    running = undefined;
  });

  test('after a kill -9 of the service, the next start stops the dev server it left behind', async () => {
    const pidFile = path.join(dataDir, 'temporal.sqlite.pid');
    const alive = (pid: number) => {
      try {
        return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
      } catch {
        return false;
      }
    };
    running = await startService(env);
    const orphan = Number(fs.readFileSync(pidFile, 'utf8'));
    running.child.kill('SIGKILL');
    await running.exited;
    running = undefined;
    // The kill gave the service no chance to stop its dev server.
    expect(alive(orphan)).toBe(true);

    running = await startService(env);
    expect(alive(orphan)).toBe(false);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).not.toBe(orphan);
    expect((await call(`http://127.0.0.1:${env.PORT}`, 'GET', '/readyz')).status).toBe(200);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    running = undefined;
    expect(fs.existsSync(pidFile)).toBe(false);
  });
});
