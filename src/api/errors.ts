import type { ErrorRequestHandler, RequestHandler } from 'express';
import createHttpError, { isHttpError } from 'http-errors';
import { isDatabaseUnavailable } from '../db';
import { safeError, type Logger } from '../logger';

/**
 * An error the client is meant to see: `{error: {code, message, details?}}` with this status;
 * `retryAfterSeconds` is sent as `Retry-After`.
 */
export function apiError(status: number, code: string, message: string, details?: unknown, { retryAfterSeconds }: { retryAfterSeconds?: number } = {}) {
  return createHttpError(status, message, { apiCode: code, details, expose: true, retryAfterSeconds });
}

// body-parser reports its failures as http-errors with a `type`; give each a stable code.
const BODY_PARSER_CODES: Record<string, string> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_encoding',
  'charset.unsupported': 'unsupported_charset',
  'request.aborted': 'request_aborted',
};

/** Seconds a client is told to wait when a dependency is down. */
const RETRY_AFTER_S = 5;

/** gRPC UNAVAILABLE (14) or DEADLINE_EXCEEDED (4) from the Temporal frontend: the cluster cannot answer now. */
function isTemporalUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 14 || code === 4) return true;
  }
  return false;
}

export const notFound: RequestHandler = (req, _res, next) =>
  next(apiError(404, 'not_found', `no route for ${req.method} ${req.path}`));

/** The one place errors become responses; nothing from a stack trace ever reaches the client. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (isHttpError(err) && err.status === 503) res.set('Retry-After', String(RETRY_AFTER_S));
    if (isHttpError(err) && typeof err.retryAfterSeconds === 'number') res.set('Retry-After', String(err.retryAfterSeconds));
    if (isHttpError(err) && err.expose) {
      // Only our own codes pass through; a library's (zlib's Z_DATA_ERROR, say) is no contract.
      const code = (err.apiCode as string | undefined) ?? BODY_PARSER_CODES[err.type as string] ?? 'invalid_body';
      const message =
        err.type === 'entity.parse.failed'
          ? 'request body is not valid JSON'
          : err.apiCode || err.type
            ? err.message
            : `request body could not be read (${String(err.code ?? err.message)})`;
      res.status(err.status).json({ error: { code, message, ...(err.details ? { details: err.details } : {}) } });
      return;
    }
    // The router's own 400 for a path it cannot percent-decode.
    if (err instanceof URIError) {
      res.status(400).json({ error: { code: 'invalid_path', message: 'the request path is not valid percent-encoding' } });
      return;
    }
    const unavailable = (isHttpError(err) && err.status === 503) || isDatabaseUnavailable(err) || isTemporalUnavailable(err);
    if (unavailable) {
      // Expected during an outage and answered for what it is; one line, no stack.
      log.warn({ err: safeError(err), method: req.method, path: req.path }, 'dependency unavailable');
      res.set('Retry-After', String(RETRY_AFTER_S));
    } else {
      log.error({ err: safeError(err), method: req.method, path: req.path }, 'request failed');
    }
    res.status(unavailable ? 503 : 500).json({
      error: unavailable
        ? { code: 'unavailable', message: isHttpError(err) ? err.message : 'a dependency (the database or Temporal) is unavailable; retry later' }
        : { code: 'internal_error', message: 'internal error; it has been logged' },
    });
  };
}
