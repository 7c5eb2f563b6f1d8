import express, { type RequestHandler } from 'express';
import type { Database } from '../db';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { DeliveryReporter } from '../reports';
import type { TemporalGateway } from '../temporal/gateway';
import type { Renderer } from '../notifications/templates';
import type { Channel } from '../../workflows/definitions';
import { requireApiKey } from './auth';
import { rejectUnstorableText } from './text';
import { apiError, errorHandler, notFound } from './errors';
import { bulkDeadLetterRoute, deadLetterActionRoutes, dlqRoutes } from './routes/dlq';
import { bulkCancelRoute, notificationRoutes } from './routes/notifications';
import { settingsRoutes } from './routes/settings';
import { targetRoutes } from './routes/targets';
import { templateRoutes } from './routes/templates';
import { userRoutes } from './routes/users';

export interface ApiDeps {
  db: Database;
  metrics: Metrics;
  reporter: DeliveryReporter;
  temporal: TemporalGateway;
  log: Logger;
  apiKeys: string[];
  channels: Channel[];
  renderer: Renderer;
  /** Handed to browsers so they can subscribe to Web Push; undefined when Web Push is off. */
  vapidPublicKey?: string;
  webPushAllowedHosts: string[];
}

/** A body that is not JSON gets a clear 415 instead of being read as "missing". */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    return next(apiError(415, 'unsupported_media_type', 'request body must be JSON (Content-Type: application/json)'));
  }
  next();
};

export function createApp(deps: ApiDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(deps.metrics.httpRequests);
  deps.metrics.watchDatabase(deps.db);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const temporal = await deps.temporal.isReachable();
    const database = await deps.db
      .execute('select 1')
      .then(() => true)
      .catch(() => false);
    res.status(temporal && database ? 200 : 503).json({ status: temporal && database ? 'ready' : 'not_ready', temporal, database });
  });

  // Prometheus scrapes without a key, like the health checks: the figures name no user, id or secret.
  app.get('/metrics', metricsRoute(deps.metrics));

  const v1 = express.Router();
  if (deps.apiKeys.length > 0) v1.use(requireApiKey(deps.apiKeys));
  v1.use(requireJsonBody, express.json({ limit: '256kb' }), rejectUnstorableText);
  // `:bulkCancel` is a custom method (AIP-136 style); the backslash keeps the colon literal.
  v1.use('/notifications\\:bulkCancel', bulkCancelRoute(deps));
  v1.use('/notifications', notificationRoutes(deps), deadLetterActionRoutes(deps));
  v1.use('/dlq\\:redrive', bulkDeadLetterRoute(deps, 'redrive'));
  v1.use('/dlq\\:discard', bulkDeadLetterRoute(deps, 'discard'));
  v1.use('/dlq', dlqRoutes(deps));
  v1.use('/users', userRoutes(deps), targetRoutes(deps));
  v1.use('/templates', templateRoutes(deps));
  v1.get('/web-push/vapid-public-key', (_req, res) => {
    if (!deps.vapidPublicKey) throw apiError(404, 'channel_not_configured', 'Web Push is not configured on this deployment');
    res.json({ publicKey: deps.vapidPublicKey });
  });
  v1.use('/', settingsRoutes(deps));
  app.use('/v1', v1);

  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}

/** The registry's text exposition; a failed database gauge answers 503 rather than a partial page. */
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
