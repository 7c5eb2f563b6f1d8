import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from './config';
import { loadOrCreateSecret } from './generated-secret';

/** Who a one-click unsubscribe link opts out, and of which category. */
export interface UnsubscribeClaim {
  userId: string;
  category: string;
}

export interface UnsubscribeLinks {
  /** The link for an email's List-Unsubscribe header: signed, and valid until `now + ttl`. */
  linkFor(claim: UnsubscribeClaim, now?: Date): string;
  /** The claim in a token, `expired`, or undefined when it was not signed with this key. */
  verify(token: string, now?: Date): UnsubscribeClaim | 'expired' | undefined;
}

export const UNSUBSCRIBE_PATH = '/unsubscribe';

/** The signing key: configured, or (outside production) generated once under DATA_DIR for API and worker alike. */
function unsubscribeSigningKey(config: Config): string {
  if (config.unsubscribe.signingKey) return config.unsubscribe.signingKey;
  const generate = () => ({ signingKey: randomBytes(32).toString('base64url') });
  return loadOrCreateSecret(config.dataDir, 'unsubscribe-key.json', generate, ['signingKey'], 'an unsubscribe signing key').signingKey;
}

export function unsubscribeLinksFor(config: Config): UnsubscribeLinks {
  const baseUrl = config.unsubscribe.publicUrl ?? `http://${config.api.host}:${config.api.port}`;
  return createUnsubscribeLinks({ signingKey: unsubscribeSigningKey(config), baseUrl, ttlMs: config.unsubscribe.linkTtlMs });
}

/**
 * Tokens are `payload.signature`: the payload is base64url JSON {u, c, e} (user, category, expiry in
 * epoch seconds), the signature its HMAC-SHA256. Nothing is stored: a link is valid while it verifies.
 */
export function createUnsubscribeLinks({ signingKey, baseUrl, ttlMs }: { signingKey: string; baseUrl: string; ttlMs: number }): UnsubscribeLinks {
  const sign = (payload: string) => createHmac('sha256', signingKey).update(payload).digest();
  return {
    linkFor({ userId, category }, now = new Date()) {
      const payload = Buffer.from(JSON.stringify({ u: userId, c: category, e: Math.floor((now.getTime() + ttlMs) / 1000) })).toString('base64url');
      const token = `${payload}.${sign(payload).toString('base64url')}`;
      return `${baseUrl}${UNSUBSCRIBE_PATH}?token=${token}`;
    },
    verify(token, now = new Date()) {
      const [payload, signature, ...rest] = token.split('.');
      if (!payload || !signature || rest.length > 0) return undefined;
      // Compared as text: base64url's last character carries spare bits, so decoding first would accept variants.
      const given = Buffer.from(signature);
      const expected = Buffer.from(sign(payload).toString('base64url'));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      const { u, c, e } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { u: string; c: string; e: number };
      if (e * 1000 < now.getTime()) return 'expired';
      return { userId: u, category: c };
    },
  };
}
