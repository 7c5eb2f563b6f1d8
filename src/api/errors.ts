import type { ErrorRequestHandler, RequestHandler } from 'express';
import createHttpError, { isHttpError } from 'http-errors';
import { safeError, type Logger } from '../logger';

/** An error the client is meant to see: `{error: {code, message, details?}}` with this status. */
export function apiError(status: number, code: string, message: string, details?: unknown) {
  return createHttpError(status, message, { apiCode: code, details, expose: true });
}

// body-parser reports its failures as http-errors with a `type`; give each a stable code.
const BODY_PARSER_CODES: Record<string, string> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_encoding',
  'charset.unsupported': 'unsupported_charset',
  'request.aborted': 'request_aborted',
};

export const notFound: RequestHandler = (req, _res, next) =>
  next(apiError(404, 'not_found', `no route for ${req.method} ${req.path}`));

/** The one place errors become responses; nothing from a stack trace ever reaches the client. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
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
    const status = isHttpError(err) ? err.status : 500;
    log.error({ err: safeError(err), method: req.method, path: req.path }, 'request failed');
    const unavailable = status === 503;
    res.status(unavailable ? 503 : 500).json({
      error: unavailable
        ? { code: 'unavailable', message: err.message ?? 'a dependency is unavailable; retry later' }
        : { code: 'internal_error', message: 'internal error; it has been logged' },
    });
  };
}
