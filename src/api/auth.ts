import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import createHttpError from 'http-errors';
import type { ApiKeyScope } from '../../drizzle/schema';
import type { Executor } from '../db';
import { apiKeyId, findActiveApiKey, keyDigest } from '../db/api-keys';
import { apiError } from './errors';

export type Scope = ApiKeyScope;

/** Who is calling, as the routes and the audit log see it. */
export interface Caller {
  keyId: string;
  scope: Scope;
}

/** The API without keys (the embedded default): everyone may do everything. */
const ANONYMOUS: Caller = { keyId: 'anonymous', scope: 'admin' };

/** How long a key found in the database is trusted without asking again: a revoke reaches other API processes within this. */
export const KEY_CACHE_MS = 10_000;
const KEY_CACHE_SIZE = 1000;

export interface Authenticator {
  handler: RequestHandler;
  /** Drops every remembered key, so a revoke in this process applies to the next request. */
  forget(): void;
}

/**
 * Every /v1 request names its caller. With `API_KEYS` set, a key is required (`x-api-key`, or
 * `Authorization: Bearer`): those keys are the admin keys the deployment starts with, compared as
 * SHA-256 digests in constant time; any other key is looked up by its digest among the keys made
 * through `/v1/api-keys`. Without `API_KEYS` the API is open, as the embedded default runs.
 */
export function authenticator({ bootstrapKeys, db }: { bootstrapKeys: string[]; db: Executor }): Authenticator {
  const bootstrap = bootstrapKeys.map(keyDigest);
  const remembered = new Map<string, { caller: Caller; until: number }>();

  async function stored(digest: Buffer): Promise<Caller | undefined> {
    const hex = digest.toString('hex');
    const hit = remembered.get(hex);
    if (hit && hit.until > Date.now()) return hit.caller;
    let row;
    try {
      row = await findActiveApiKey(db, digest);
    } catch {
      throw createHttpError(503, 'API keys cannot be checked: the database is unavailable; retry later');
    }
    if (!row) return undefined;
    if (remembered.size >= KEY_CACHE_SIZE) remembered.clear();
    const caller = { keyId: row.id, scope: row.scope };
    remembered.set(hex, { caller, until: Date.now() + KEY_CACHE_MS });
    return caller;
  }

  const handler: RequestHandler = async (req, res, next) => {
    if (bootstrap.length === 0) {
      res.locals.caller = ANONYMOUS;
      return next();
    }
    const bearer = req.get('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
    const presented = req.get('x-api-key') ?? bearer;
    if (!presented) return next(apiError(401, 'unauthenticated', 'an API key is required in the x-api-key header'));
    const digest = keyDigest(presented);
    // Check every bootstrap key so the time taken does not depend on which one matched.
    const isBootstrap = bootstrap.reduce((match, key) => timingSafeEqual(key, digest) || match, false);
    try {
      const caller = isBootstrap ? { keyId: apiKeyId(digest), scope: 'admin' as const } : await stored(digest);
      if (!caller) return next(apiError(401, 'unauthenticated', 'the API key is not valid'));
      res.locals.caller = caller;
      next();
    } catch (err) {
      next(err);
    }
  };
  return { handler, forget: () => remembered.clear() };
}

export const callerOf = (res: Response): Caller => (res.locals.caller as Caller | undefined) ?? ANONYMOUS;

/** Who made this request, for operator records: the API key's id, or `anonymous` when the API runs without keys. */
export const requesterOf = (res: Response): string => callerOf(res).keyId;

/** Refuses a caller whose key lacks `scope` (admin keys may do what client keys may). */
export function requireScope(res: Response, scope: Scope): void {
  if (scope === 'admin' && callerOf(res).scope !== 'admin') {
    throw apiError(403, 'forbidden', 'this route needs an admin key; the key given has the client scope');
  }
}
