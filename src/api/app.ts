import type { PayloadCodec } from '@temporalio/common';
import type { Fault } from '../config';
import type { ThrottleRule } from '../policy/throttle';
import cors from 'cors';
import express, { type RequestHandler } from 'express';
// The package's index evaluates its 3.5 MB browser bundle (tens of MB of memory per process); only its path is needed.
import swaggerUiPath from 'swagger-ui-dist/absolute-path';
import { z } from 'zod';
import type { Database } from '../db';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { DeliveryReporter } from '../reports';
import type { TemporalGateway } from '../temporal/gateway';
import type { Renderer } from '../notifications/templates';
import type { Channel } from '../../workflows/definitions';
import type { OutboundPolicy, Resolve } from '../net/outbound';
import { authenticator } from './auth';
import { apiKeyRoutes } from './routes/api-keys';
import { codecRoutes } from './routes/codec';
import { perKeyRateLimit } from './rate-limit';
import { rejectUnstorableText } from './text';
import { apiError, errorHandler, notFound } from './errors';
import { bulkDeadLetterRoute, deadLetterActionRoutes, dlqRoutes } from './routes/dlq';
import { bulkCancelRoute, notificationRoutes } from './routes/notifications';
import { settingsRoutes } from './routes/settings';
import { targetRoutes } from './routes/targets';
import { templateRoutes } from './routes/templates';
import { userRoutes } from './routes/users';
import { unsubscribeRoutes } from './routes/unsubscribe';
import { UNSUBSCRIBE_PATH, type UnsubscribeLinks } from '../unsubscribe';
import { metricsRoute } from './metrics-route';
import { documented, methodNotAllowed, openApiDocument, type Contract } from './openapi';
import { healthSchema, readinessSchema } from './responses';
import { version } from '../../package.json';

export interface ApiDeps {
  db: Database;
  metrics: Metrics;
  reporter: DeliveryReporter;
  temporal: TemporalGateway;
  log: Logger;
  /** `API_KEYS`: the admin keys the deployment starts with; none: the API is open (the embedded default). */
  apiKeys: string[];
  /** The payload codec Temporal sees Herald's payloads through (none: plain), served to operators' tools at /v1/codec. */
  codec?: PayloadCodec;
  /** Browser origins (the Temporal Web UI) that may call /v1/codec. */
  codecCorsOrigins: string[];
  /** The recipient throttle, for types that refuse a recipient over it at create time. */
  throttle?: ThrottleRule;
  /** Faults injected by `npm run chaos` (FAULT_INJECTION); none otherwise. */
  faults?: Fault[];
  /** Requests per API key per minute (0: none). */
  rateLimitPerMinute: number;
  channels: Channel[];
  renderer: Renderer;
  /** Handed to browsers so they can subscribe to Web Push; undefined when Web Push is off. */
  vapidPublicKey?: string;
  webPushAllowedHosts: string[];
  /** Region for phone numbers registered without a country code. */
  phoneDefaultCountry: string;
  /** SMS_LONG_MESSAGES: an SMS over 90 bytes goes as LMS, or is refused at create. */
  smsLongMessages?: 'lms' | 'refuse';
  /** Verifies the one-click unsubscribe links in emails; undefined when email is off. */
  unsubscribeLinks?: UnsubscribeLinks;
  /** Where registered URLs may lead (SSRF guard), and the DNS it checks names with. */
  outbound: OutboundPolicy;
  resolve?: Resolve;
}

/** A body that is not JSON gets a clear 415 instead of being read as "missing". */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    return next(apiError(415, 'unsupported_media_type', 'request body must be JSON (Content-Type: application/json)'));
  }
  next();
};

const CONTRACTS = {
  health: { summary: 'Liveness: the process answers', responses: { 200: { description: 'Alive.', schema: healthSchema } } },
  ready: {
    summary: 'Readiness: Temporal and the database both answer',
    responses: {
      200: { description: 'Ready.', schema: readinessSchema },
      503: { description: 'Not ready: which dependency is down.', schema: readinessSchema },
    },
  },
  metrics: {
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'The text exposition format.', schema: z.string(), contentType: 'text/plain' } },
    errors: { 503: 'The database gauges could not be read.' },
  },
  openapi: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1.', schema: z.record(z.string(), z.unknown()) } } },
  docs: { summary: 'An interactive reference of this API', responses: { 200: { description: 'The page.', schema: z.string(), contentType: 'text/html' } } },
  vapidKey: {
    scope: 'client',
    summary: 'The VAPID public key browsers subscribe to Web Push with',
    responses: { 200: { description: 'The key (base64url).', schema: z.object({ publicKey: z.string() }) } },
    errors: { 404: 'Web Push is not configured on this deployment.' },
  },
} satisfies Record<string, Contract>;

const READY_WAIT_MS = 1500;

/** `answer`, or false when it takes longer than `ms`. */
function within(ms: number, answer: Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((settle) => (timer = setTimeout(() => settle(false), ms)));
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

/** Swagger UI from the swagger-ui-dist package, served from this process: the page works offline. */
const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });</script>
</body></html>`;

export function createApp(deps: ApiDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(deps.metrics.httpRequests);
  deps.metrics.watchDatabase(deps.db);

  app.get(
    '/healthz',
    documented(CONTRACTS.health, (_req, res) => {
      res.json({ status: 'ok' });
    }),
  );
  app.get('/readyz', documented(CONTRACTS.ready, async (_req, res) => {
    // Both asked at once, each given READY_WAIT_MS: a probe during an outage gets its 503 quickly.
    const [temporal, database] = await Promise.all([
      within(READY_WAIT_MS, deps.temporal.isReachable()),
      within(
        READY_WAIT_MS,
        deps.db.execute('select 1').then(
          () => true,
          () => false,
        ),
      ),
    ]);
    if (!(temporal && database)) res.set('Retry-After', '5');
    res.status(temporal && database ? 200 : 503).json({ status: temporal && database ? 'ready' : 'not_ready', temporal, database });
  }));

  // Prometheus scrapes without a key, like the health checks: the figures name no user, id or secret.
  app.get('/metrics', documented(CONTRACTS.metrics, metricsRoute(deps.metrics)));

  // The contract is public, like the health checks: it names routes and fields, never data.
  let openApi: unknown;
  app.get(
    '/openapi.json',
    documented(CONTRACTS.openapi, (_req, res) => {
      openApi ??= openApiDocument(app, { version, authenticated: deps.apiKeys.length > 0, rateLimited: deps.rateLimitPerMinute > 0 });
      res.json(openApi);
    }),
  );
  app.get(
    '/docs',
    documented(CONTRACTS.docs, (_req, res) => {
      res.type('html').send(DOCS_PAGE);
    }),
  );
  app.use('/docs', express.static(swaggerUiPath(), { index: false }));

  // The Temporal Web UI calls the codec from the browser: its preflight must be answered before any key is asked for.
  app.use('/v1/codec', cors({ origin: deps.codecCorsOrigins, methods: ['POST'], allowedHeaders: ['content-type', 'x-namespace', 'authorization', 'x-api-key'], credentials: true }));

  // Outside /v1 and its API keys, like the health checks: the signed link in an email is its own authority. Mail clients post a form body, which is ignored.
  app.use(UNSUBSCRIBE_PATH, unsubscribeRoutes(deps));

  const v1 = express.Router();
  const auth = authenticator({ bootstrapKeys: deps.apiKeys, db: deps.db });
  v1.use(auth.handler, perKeyRateLimit(deps.rateLimitPerMinute));
  v1.use(requireJsonBody, express.json({ limit: '256kb' }), rejectUnstorableText);
  // `:bulkCancel` is a custom method (AIP-136 style); the backslash keeps the colon literal.
  v1.use('/notifications\\:bulkCancel', bulkCancelRoute(deps));
  v1.use('/notifications', notificationRoutes(deps), deadLetterActionRoutes(deps));
  v1.use('/dlq\\:redrive', bulkDeadLetterRoute(deps, 'redrive'));
  v1.use('/dlq\\:discard', bulkDeadLetterRoute(deps, 'discard'));
  v1.use('/dlq', dlqRoutes(deps));
  v1.use('/users', userRoutes(deps), targetRoutes(deps));
  v1.use('/templates', templateRoutes(deps));
  v1.use('/api-keys', apiKeyRoutes({ db: deps.db, auth }));
  v1.use('/codec', codecRoutes(deps));
  v1.get(
    '/web-push/vapid-public-key',
    documented(CONTRACTS.vapidKey, (_req, res) => {
      if (!deps.vapidPublicKey) throw apiError(404, 'channel_not_configured', 'Web Push is not configured on this deployment');
      res.json({ publicKey: deps.vapidPublicKey });
    }),
  );
  v1.use('/', settingsRoutes(deps));
  app.use('/v1', v1);

  app.use(methodNotAllowed(app), notFound);
  app.use(errorHandler(deps.log));
  return app;
}
