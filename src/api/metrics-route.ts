import type { RequestHandler } from 'express';
import type { Metrics } from '../metrics';
import { apiError } from './errors';

/**
 * The registry's text exposition; a failed database gauge answers 503 rather than a partial page.
 * A module of its own: the worker serves /metrics too, and must not load the whole API to do it.
 */
export function metricsRoute({ registry }: Pick<Metrics, 'registry'>): RequestHandler {
  return async (_req, res, next) => {
    try {
      const text = await registry.metrics();
      res.type(registry.contentType).send(text);
    } catch {
      next(apiError(503, 'metrics_unavailable', 'metrics could not be read (is the database reachable?)'));
    }
  };
}
