import pino from 'pino';
import pretty from 'pino-pretty';

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

/** `pretty`: one readable line per entry, for a person at a terminal; `json`: one JSON object per line, for log collectors. */
export type LogFormat = 'pretty' | 'json';

/** Readable lines for someone watching a terminal; JSON for everything else, and always in production. */
export function logFormatFor(setting: 'auto' | LogFormat, env: string, stream: { isTTY?: boolean } = process.stdout): LogFormat {
  if (setting !== 'auto') return setting;
  return stream.isTTY && env !== 'production' ? 'pretty' : 'json';
}

/** `destination`: where JSON lines go instead of stdout (tests read them). */
export function createLogger(level: string, name = 'herald', format: LogFormat = 'json', destination?: pino.DestinationStream): Logger {
  const options = { name, level, redact: { paths: redactPaths, censor: '[redacted]' } };
  if (format === 'json') return destination ? pino(options, destination) : pino(options);
  // Synchronous, in this thread: a line is on the terminal before the next one is written.
  return pino(options, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true }));
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
