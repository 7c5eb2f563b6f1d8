import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { temporal } from '@temporalio/proto';
import { call } from '../setup/http';
import { inSeconds, webhookWorld } from '../setup/scenario';

/*
 * PAYLOAD_ENCRYPTION_KEYS: notification content, user ids and metadata never reach Temporal in plain
 * text (the raw history is searched for a marker), delivery still works, and operators still read
 * the payloads through /v1/codec, as the Temporal UI and CLI do.
 */
const run = promisify(execFile);
const ADMIN_KEY = 'encryption-admin-key-0123456789';
const UI_ORIGIN = 'http://127.0.0.1:8233';
const MARKER = `zebra${randomBytes(6).toString('hex')}`;

const w = webhookWorld('enc', () => ({
  env: { API_KEYS: ADMIN_KEY, PAYLOAD_ENCRYPTION_KEYS: `test-1:${randomBytes(32).toString('base64')}`, CODEC_CORS_ORIGINS: UI_ORIGIN },
}));

test('the raw history holds no plain text of the notification; the codec endpoint decodes it', async () => {
  const userId = `enc-${MARKER}`;
  await w.api.registerWebhook(userId, `${w.receiver.url}/${userId}`);
  const created = await w.api.create({
    userId,
    channels: ['webhook'],
    content: { title: `title ${MARKER}`, body: `body ${MARKER}` },
    metadata: { ref: MARKER },
    scheduledAt: inSeconds(1),
  });
  expect(created.status).toBe(202);
  const id = created.body.id;
  // The API still reads the live status through the codec while the notification waits.
  const pending = await w.api.get(id);
  expect(pending.body.live?.phase).toBe('SCHEDULED');
  expect((await w.api.waitFor(id, 'DELIVERED', 'FAILED')).status).toBe('DELIVERED');
  expect(w.receiver.received.map((r) => JSON.parse(r.body).data.body)).toContain(`body ${MARKER}`);

  const { history } = await w.stack.temporal.client.workflowService.getWorkflowExecutionHistory({
    namespace: w.stack.config.temporal.namespace,
    execution: { workflowId: id },
  });
  const raw = Buffer.from(temporal.api.history.v1.History.encode(history!).finish());
  expect(raw.length).toBeGreaterThan(500);
  expect(raw.includes(MARKER)).toBe(false);

  const started = history!.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!;
  const b64 = (bytes?: Uint8Array | null) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');
  const payloads = started.input!.payloads!.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
    data: b64(p.data),
  }));
  const admin = { 'x-api-key': ADMIN_KEY };
  const decoded = await call(w.stack.url, 'POST', '/v1/codec/decode', { body: { payloads }, headers: admin });
  expect(decoded.status).toBe(200);
  const input = JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString('utf8'));
  expect(input).toMatchObject({ notificationId: id, userId, content: { body: `body ${MARKER}` }, metadata: { ref: MARKER } });

  // What an operator runs: the temporal CLI shows the history decoded through the endpoint.
  const shown = await run(process.env.TEMPORAL_CLI_PATH!, [
    'workflow', 'show', '--workflow-id', id, '--address', process.env.TEST_TEMPORAL_ADDRESS!, '--output', 'json',
    '--codec-endpoint', `${w.stack.url}/v1/codec`, '--codec-auth', `Bearer ${ADMIN_KEY}`,
  ]);
  const startInput = (json: string) => JSON.parse(json).events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
  const unbase64 = (v: string) => Buffer.from(v, 'base64').toString('utf8');
  expect(unbase64(startInput(shown.stdout).data)).toContain(`body ${MARKER}`);
  const withoutCodec = await run(process.env.TEMPORAL_CLI_PATH!, ['workflow', 'show', '--workflow-id', id, '--address', process.env.TEST_TEMPORAL_ADDRESS!, '--output', 'json']);
  expect(unbase64(startInput(withoutCodec.stdout).metadata.encoding)).toBe('binary/encrypted');

  // And back: what the endpoint encodes, it decodes.
  const encoded = await call(w.stack.url, 'POST', '/v1/codec/encode', { body: { payloads: decoded.body.payloads }, headers: admin });
  expect(Buffer.from(encoded.body.payloads[0].data, 'base64').includes(MARKER)).toBe(false);
  const again = await call(w.stack.url, 'POST', '/v1/codec/decode', { body: { payloads: encoded.body.payloads }, headers: admin });
  expect(again.body.payloads).toEqual(decoded.body.payloads);
});

test('the codec endpoint answers the Temporal UI origin, and needs an admin key', async () => {
  const origin = UI_ORIGIN;
  const preflight = await fetch(`${w.stack.url}/v1/codec/decode`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
  const elsewhere = await fetch(`${w.stack.url}/v1/codec/decode`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:9', 'access-control-request-method': 'POST' } });
  expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
  expect((await call(w.stack.url, 'POST', '/v1/codec/decode', { body: { payloads: [] } })).status).toBe(401);
});
