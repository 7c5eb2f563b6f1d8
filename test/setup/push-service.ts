import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH, type KeyObject } from 'node:crypto';

export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** The browser side's ECDH private key (base64url); the service keeps its own copy to decrypt. */
  privateKey: string;
}

export interface ReceivedPush {
  endpointPath: string;
  headers: http.IncomingHttpHeaders;
  vapidValid: boolean;
  vapidClaims: Record<string, unknown> | null;
  /** The `k=` key the JWT was checked against. */
  vapidPublicKey: string | null;
  /** Size of the encrypted request body, which push services cap at 4,096 bytes. */
  bodyBytes: number;
  /** The decrypted payload, or null when it could not be decrypted. */
  plaintext: string | null;
  ttl?: string;
  urgency?: string;
  topic?: string;
  receivedAt: number;
}

export interface PushAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface PushService {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  subscribe(): TestSubscription;
  received: ReceivedPush[];
  /** Answers to give, in order. Once used up: 201 with a Location, or what a real service would say to a bad request. */
  respondWith(...answers: PushAnswer[]): void;
  close(): Promise<void>;
}

interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
}

/**
 * A browser push service on loopback that checks what a real one checks: the VAPID JWT (RFC 8292) and an
 * aes128gcm payload (RFC 8188/8291) it can decrypt with the subscription's keys, using node:crypto only so
 * the check is independent of the web-push library under test.
 */
export async function startPushService(): Promise<PushService> {
  const subscribers = new Map<string, Subscriber>();
  const received: ReceivedPush[] = [];
  const answers: PushAnswer[] = [];
  let delivered = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const endpointPath = req.url ?? '';
      const subscriber = subscribers.get(endpointPath);
      const vapid = checkVapid(req.headers.authorization, origin);
      const body = Buffer.concat(chunks);
      const plaintext = subscriber ? tryDecrypt(body, subscriber) : null;
      const header = (name: string) => req.headers[name] as string | undefined;
      received.push({ endpointPath, headers: req.headers, ...vapid, bodyBytes: body.length, plaintext, ttl: header('ttl'), urgency: header('urgency'), topic: header('topic'), receivedAt: Date.now() });

      const answer = answers.shift() ?? defaultAnswer(!!subscriber, vapid.vapidValid, plaintext !== null);
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  });

  function defaultAnswer(known: boolean, vapidValid: boolean, decrypted: boolean): PushAnswer {
    if (!known) return { status: 404 };
    if (!vapidValid) return { status: 401, body: 'VAPID JWT rejected' };
    if (!decrypted) return { status: 400, body: 'payload could not be decrypted' };
    return { status: 201, headers: { location: `${origin}/messages/${++delivered}` } };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    received,
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/push/${randomBytes(12).toString('base64url')}`;
      subscribers.set(path, { ecdh, auth });
      return {
        endpoint: `${origin}${path}`,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
        privateKey: ecdh.getPrivateKey().toString('base64url'),
      };
    },
    respondWith: (...a) => answers.push(...a),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const DAY_SECONDS = 24 * 60 * 60;

/** `Authorization: vapid t=<ES256 JWT>, k=<P-256 public key>`: signed by k, for this origin, expiring within a day. */
function checkVapid(authorization: string | undefined, audience: string) {
  const invalid = { vapidValid: false, vapidClaims: null, vapidPublicKey: null };
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(authorization ?? '');
  if (!match) return invalid;
  const [, jwt, k] = match;
  const [header64, claims64, signature64] = jwt.split('.');
  try {
    const header = JSON.parse(Buffer.from(header64, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(claims64, 'base64url').toString()) as Record<string, unknown>;
    const signed = verify(
      'sha256',
      Buffer.from(`${header64}.${claims64}`),
      { key: p256PublicKey(Buffer.from(k, 'base64url')), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature64, 'base64url'),
    );
    const now = Date.now() / 1000;
    const { aud, exp, sub } = claims;
    const vapidValid =
      header.alg === 'ES256' &&
      signed &&
      aud === audience &&
      typeof exp === 'number' &&
      exp > now &&
      exp <= now + DAY_SECONDS &&
      typeof sub === 'string' &&
      sub.length > 0;
    return { vapidValid, vapidClaims: claims, vapidPublicKey: k };
  } catch {
    return invalid;
  }
}

function p256PublicKey(point: Buffer): KeyObject {
  const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') };
  return createPublicKey({ key: jwk, format: 'jwk' });
}

function tryDecrypt(body: Buffer, subscriber: Subscriber): string | null {
  try {
    return decryptAes128gcm(body, subscriber);
  } catch {
    return null;
  }
}

/** RFC 8291 key derivation over an RFC 8188 body: salt(16) | record size(4) | key id length(1) | sender key | records. */
function decryptAes128gcm(body: Buffer, { ecdh, auth }: Subscriber): string {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const senderKey = body.subarray(21, 21 + body[20]);
  const hkdf = (ikm: Buffer, hkdfSalt: Buffer, info: Buffer, length: number) => Buffer.from(hkdfSync('sha256', ikm, hkdfSalt, info, length));
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderKey]);
  const ikm = hkdf(ecdh.computeSecret(senderKey), auth, keyInfo, 32);
  const key = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const baseNonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);

  const plaintext: Buffer[] = [];
  for (let offset = 21 + senderKey.length, seq = 0; offset < body.length; offset += recordSize, seq++) {
    const record = body.subarray(offset, offset + recordSize);
    const nonce = Buffer.from(baseNonce);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', key, nonce).setAuthTag(record.subarray(-16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, -16)), decipher.final()]);
    const last = offset + recordSize >= body.length;
    // Content, then a delimiter (2 on the last record, 1 before), then zero padding.
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end--;
    if (padded[end] !== (last ? 2 : 1)) throw new Error('bad record padding');
    plaintext.push(padded.subarray(0, end));
  }
  return Buffer.concat(plaintext).toString('utf8');
}
