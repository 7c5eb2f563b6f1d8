import type { Express, RequestHandler } from 'express';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { requireScope, type Scope } from './auth';
import { apiError } from './errors';

/**
 * What one route accepts and answers, declared beside its handler with the very zod schemas the
 * handler validates with: the OpenAPI document is read off the app's routes, so it cannot list a
 * route that does not exist, and a test fails on any route that carries no contract.
 */
export interface Contract {
  /** Who may call it (every /v1 route says): `client` keys, or `admin` keys only. Unset: public, like /healthz. */
  scope?: Scope;
  summary: string;
  description?: string;
  /** Path parameters, by the names the route uses. */
  path?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** The body may be left out altogether (it then means `{}`). */
  bodyOptional?: boolean;
  /** The answers that are not errors, by status. */
  responses: Record<number, Answer>;
  /** Errors this route answers besides those every route of its kind can (see `commonErrors`), with when. */
  errors?: Record<number, string>;
}

export interface Answer {
  description: string;
  schema?: z.ZodType;
  /** Defaults to application/json; `/metrics` answers text. */
  contentType?: string;
  /** Response headers, each with `.meta({ description })`. */
  headers?: z.ZodObject;
  /** Operations this answer leads to (OpenAPI links), with where their parameters come from, e.g. `$response.body#/id`. */
  links?: Record<string, { to: [method: string, path: string]; parameters: Record<string, string> }>;
}

/** `{error: {code, message, details?}}`, the body of every 4xx and 5xx. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable, machine-readable; e.g. validation_failed, notification_not_found.' }),
      message: z.string().meta({ description: 'For people: what was wrong and how to fix it.' }),
      details: z.unknown().optional().meta({ description: 'For validation_failed: `[{field, message}]`; otherwise what the code needs.' }),
    }),
  })
  .meta({ id: 'Error' });

const CONTRACT = Symbol('contract');
type Handler = RequestHandler<Record<string, string>>;
type Documented = Handler & { [CONTRACT]?: Contract };

/** The handler, refusing callers without the contract's scope, and carrying its contract for the OpenAPI document. */
export function documented(contract: Contract, handler: Handler): Handler {
  const { scope } = contract;
  const guarded: Handler = scope
    ? (req, res, next) => {
        requireScope(res, scope);
        return handler(req, res, next);
      }
    : handler;
  return Object.assign(guarded, { [CONTRACT]: contract });
}

export interface RouteInfo {
  method: string;
  /** In OpenAPI form: `/v1/notifications/{id}`. */
  path: string;
  contract?: Contract;
}

interface Layer {
  rawPath?: string;
  route?: { path: string; methods: Record<string, boolean>; stack: { handle: Documented }[] };
  handle?: { stack?: Layer[] };
}

/** Express path → OpenAPI path: a literal colon is written `\:` in Express, a parameter `:name`. */
function openApiPath(expressPath: string): string {
  const path = expressPath.replace(/\/+$/, '') || '/';
  return path.replace(/(?<!\\):([A-Za-z0-9_]+)/g, '{$1}').replace(/\\:/g, ':');
}

/** Every route the app serves, in the order Express tries them. */
export function listRoutes(app: Express): RouteInfo[] {
  const routes: RouteInfo[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const contract = layer.route.stack.map((l) => l.handle[CONTRACT]).find(Boolean);
        for (const method of Object.keys(layer.route.methods)) {
          routes.push({ method, path: openApiPath(prefix + layer.route.path), contract });
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return routes;
}

/** Errors any route can answer given what it reads; `/v1` routes need a key and a database. */
function commonErrors(path: string, contract: Contract, { authenticated, rateLimited }: DocumentOptions): Record<number, string> {
  const errors: Record<number, string> = {};
  if (contract.path || contract.query || contract.headers || contract.body) errors[400] = 'The request is not valid: `details` names each field.';
  if (path.startsWith('/v1/')) {
    if (authenticated) errors[401] = 'No API key, or not a valid one.';
    if (authenticated && contract.scope === 'admin') errors[403] = 'The API key has the client scope; this route needs an admin key.';
    if (authenticated && rateLimited) errors[429] = 'More requests in a minute than one API key may make; `Retry-After` says when to try again.';
    errors[415] = 'A request body that is not JSON.';
    errors[503] = 'A dependency (PostgreSQL or Temporal) is unavailable; retry later.';
  }
  if (contract.body) errors[413] = 'The body is over 256 kB.';
  return errors;
}

/** `GET /v1/users/{userId}/targets` → `getV1UsersUserIdTargets`. */
const operationIdOf = (method: string, path: string) =>
  `${method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`;

interface DocumentOptions {
  version: string;
  /** API keys are required (API_KEYS is set). */
  authenticated: boolean;
  /** Keys are rate-limited. */
  rateLimited: boolean;
}

function operationOf(route: RouteInfo & { contract: Contract }, options: DocumentOptions): ZodOpenApiOperationObject {
  const { authenticated } = options;
  const { contract } = route;
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, answer] of Object.entries(contract.responses)) {
    responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: answer.description,
      ...(answer.headers ? { headers: answer.headers } : {}),
      ...(answer.links
        ? {
            links: Object.fromEntries(
              Object.entries(answer.links).map(([name, { to, parameters }]) => [name, { operationId: operationIdOf(...to), parameters }]),
            ),
          }
        : {}),
      ...(answer.schema ? { content: { [answer.contentType ?? 'application/json']: { schema: answer.schema } } } : {}),
    };
  }
  const errors = { ...commonErrors(route.path, contract, options), ...contract.errors };
  for (const [status, description] of Object.entries(errors)) {
    responses[status as `${4 | 5}${string}`] = { description, content: { 'application/json': { schema: errorSchema } } };
  }
  const tag = route.path.split('/')[route.path.startsWith('/v1/') ? 2 : 1]?.split(':')[0] || 'service';
  return {
    summary: contract.summary,
    ...(contract.description ? { description: contract.description } : {}),
    tags: [route.path.startsWith('/v1/') ? tag : 'service'],
    operationId: operationIdOf(route.method, route.path),
    ...(authenticated ? { security: contract.scope ? [{ apiKey: [contract.scope] }, { bearer: [contract.scope] }] : [] } : {}),
    requestParams: {
      ...(contract.path ? { path: contract.path } : {}),
      ...(contract.query ? { query: contract.query } : {}),
      ...(contract.headers ? { header: contract.headers } : {}),
    },
    ...(contract.body ? { requestBody: { required: !contract.bodyOptional, content: { 'application/json': { schema: contract.body } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of every documented route of `app`. */
export function openApiDocument(app: Express, options: DocumentOptions) {
  const { version, authenticated } = options;
  const paths: ZodOpenApiPathsObject = {};
  for (const route of listRoutes(app)) {
    if (!route.contract || route.method === '_all') continue;
    paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route as RouteInfo & { contract: Contract }, options) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version,
      description: 'Scheduled notifications that are never lost and never sent twice. Errors are `{error: {code, message, details?}}`.',
    },
    ...(authenticated
      ? {
          security: [{ apiKey: [] }, { bearer: [] }],
          components: {
            securitySchemes: {
              apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
              bearer: { type: 'http', scheme: 'bearer', description: 'The same API key, as `Authorization: Bearer <key>`.' },
            },
          },
        }
      : {}),
    paths,
  });
}

/**
 * A path the API serves, asked with a method it does not serve: 405 with `Allow` (RFC 9110) rather
 * than the 404 of an unknown path. Mounted after every route.
 */
export function methodNotAllowed(app: Express): RequestHandler {
  let table: { pattern: RegExp; methods: string[] }[] | undefined;
  return (req, res, next) => {
    if (!table) {
      const byPath = new Map<string, Set<string>>();
      for (const r of listRoutes(app)) {
        if (r.method === '_all') continue;
        const methods = byPath.get(r.path) ?? new Set<string>();
        for (const m of r.method === 'get' ? ['GET', 'HEAD'] : [r.method.toUpperCase()]) methods.add(m);
        byPath.set(r.path, methods);
      }
      table = [...byPath].map(([path, methods]) => ({
        pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
        methods: [...methods],
      }));
    }
    const allowed = [...new Set(table.filter((entry) => entry.pattern.test(req.path)).flatMap((entry) => entry.methods))];
    if (allowed.length === 0) return next();
    res.set('Allow', allowed.join(', '));
    next(apiError(405, 'method_not_allowed', `${req.method} is not served on ${req.path}; use ${allowed.join(', ')}`));
  };
}
