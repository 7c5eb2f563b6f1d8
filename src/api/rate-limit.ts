import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { callerOf } from './auth';
import { apiError } from './errors';

/**
 * Requests per API key per minute (`API_RATE_LIMIT_PER_MINUTE`), counted in this API process: a
 * runaway producer gets `429` with `Retry-After` instead of crowding out the others. The open API of
 * the embedded default has no keys to count by, and is not limited.
 */
export function perKeyRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (_req, res) => perMinute === 0 || callerOf(res).keyId === 'anonymous',
    keyGenerator: (_req, res) => callerOf(res).keyId,
    handler: (req, res, next) => {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
      res.set('Retry-After', String(seconds));
      next(apiError(429, 'rate_limited', `more than ${perMinute} requests in a minute with this API key; retry after ${seconds} s`, { retryAfterSeconds: seconds }));
    },
  });
}
