import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { apiError } from './errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires one of the configured API keys in `x-api-key` (or `Authorization: Bearer`). Keys are
 * compared as SHA-256 digests with timingSafeEqual: constant time whatever the key lengths.
 */
export function requireApiKey(keys: string[]): RequestHandler {
  const allowed = keys.map(digest);
  return (req, _res, next) => {
    const bearer = req.get('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
    const presented = req.get('x-api-key') ?? bearer;
    if (!presented) return next(apiError(401, 'unauthenticated', 'an API key is required in the x-api-key header'));
    const given = digest(presented);
    // Check every key so the time taken does not depend on which one matched.
    const ok = allowed.reduce((match, key) => timingSafeEqual(key, given) || match, false);
    next(ok ? undefined : apiError(401, 'unauthenticated', 'the API key is not valid'));
  };
}
