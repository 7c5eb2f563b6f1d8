import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { initializeApp, type App } from 'firebase-admin/app';
import { getMessaging, type Messaging } from 'firebase-admin/messaging';

// Only the transport is fake: a real firebase-admin Messaging sends real HTTP to a loopback "FCM", so its own
// request handler turns each FCM v1 error answer into the FirebaseMessagingError the adapter sees in production.

export interface FcmAnswer {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export interface FakeFcm {
  port: number;
  requests: Array<{ path: string; authorization?: string; body: any; receivedAt: number }>;
  respondWith(...answers: FcmAnswer[]): void;
  /** Answers for one device token, in order, before the shared queue (parallel sends arrive in any order). */
  respondTo(token: string, ...answers: FcmAnswer[]): void;
  close(): Promise<void>;
}

export async function startFakeFcm(): Promise<FakeFcm> {
  const requests: FakeFcm['requests'] = [];
  const answers: FcmAnswer[] = [];
  const byToken = new Map<string, FcmAnswer[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString()), receivedAt: Date.now() });
      const forToken = byToken.get(requests[requests.length - 1].body?.message?.token)?.shift();
      const answer = forToken ?? answers.shift() ?? { status: 200, json: { name: `projects/herald-test/messages/0:${requests.length}` } };
      const isJson = answer.json !== undefined;
      res.writeHead(answer.status, { 'content-type': isJson ? 'application/json' : 'text/html', ...answer.headers });
      res.end(isJson ? JSON.stringify(answer.json) : answer.text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    respondWith: (...a) => answers.push(...a),
    respondTo: (token, ...a) => byToken.set(token, [...(byToken.get(token) ?? []), ...a]),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Hands firebase-admin, which always dials https://fcm.googleapis.com, a plain TCP socket to the loopback fake. */
class LoopbackAgent extends https.Agent {
  constructor(private readonly port: number) {
    super({ keepAlive: false });
  }
  override createConnection() {
    return net.connect(this.port, '127.0.0.1');
  }
}

export function messagingVia(port: number, name: string): { app: App; messaging: Messaging } {
  const app = initializeApp(
    {
      projectId: 'herald-test',
      credential: { getAccessToken: async () => ({ access_token: 'test-access-token', expires_in: 3600 }) },
      httpAgent: new LoopbackAgent(port),
    },
    name,
  );
  return { app, messaging: getMessaging(app) };
}

/** The FCM v1 error body: google.rpc.Status with the FcmError detail firebase-admin reads first. */
export function fcmError(httpStatus: number, status: string, errorCode: string, message: string): FcmAnswer {
  const details = [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }];
  return { status: httpStatus, json: { error: { code: httpStatus, message, status, details } } };
}

