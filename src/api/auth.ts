import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { apiError } from './errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires one of the configured API keys in `x-api-key` (or `Authorization: Bearer`). Keys are
 * compared as SHA-256 digests with timingSafeEqual: constant time whatever the key lengths.
 */
export function requireApiKey(keys: string[]): RequestHandler {
  const allowed = keys.map(digest);
  return (req, res, next) => {
    const bearer = req.get('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
    const presented = req.get('x-api-key') ?? bearer;
    if (!presented) return next(apiError(401, 'unauthenticated', 'an API key is required in the x-api-key header'));
    const given = digest(presented);
    // Check every key so the time taken does not depend on which one matched.
    const ok = allowed.reduce((match, key) => timingSafeEqual(key, given) || match, false);
    if (ok) res.locals.apiKeyId = apiKeyId(given);
    next(ok ? undefined : apiError(401, 'unauthenticated', 'the API key is not valid'));
  };
}

/**
 * Names an API key in logs and operator records without revealing it: the first 12 hex digits of
 * its SHA-256, which `printf %s "$KEY" | sha256sum` shows too.
 */
const apiKeyId = (keyDigest: Buffer) => `key:${keyDigest.toString('hex').slice(0, 12)}`;

/** Who made this request, for operator records: the API key's id, or `anonymous` when the API runs without keys. */
export const requesterOf = (res: Response): string => (res.locals.apiKeyId as string | undefined) ?? 'anonymous';
