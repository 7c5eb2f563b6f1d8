import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Field names that may hold credentials. pino removes them wherever they appear (two levels deep),
 * so a careless `log.info({ target })` still cannot leak a token, key or signing secret.
 */
const SECRET_FIELDS = [
  'token',
  'secret',
  'privateKey',
  'private_key',
  'apiKey',
  'authorization',
  'x-api-key',
  'auth',
  'p256dh',
  'botToken',
  'password',
];
const redactPaths = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]).map((p) =>
  p.includes('-') ? p.replace(/([^.*]+-[^.]+)$/, '["$1"]') : p,
);

export function createLogger(level: string, name = 'herald'): Logger {
  return pino({ name, level, redact: { paths: redactPaths, censor: '[redacted]' } });
}

/**
 * An error as it may be logged. A database error's message and properties carry the query parameters
 * (tokens, endpoints, webhook secrets); only the driver's own explanation is kept.
 */
export function safeError(err: unknown): { type: string; message: string; code?: string } {
  if (!(err instanceof Error)) return { type: typeof err, message: 'non-error thrown' };
  const cause = err.cause instanceof Error ? err.cause : undefined;
  if ('params' in err || 'query' in err) {
    return { type: err.name, message: cause?.message ?? 'database query failed', code: (cause as { code?: string } | undefined)?.code };
  }
  return { type: err.name, message: err.message };
}
