import path from 'node:path';
import ms from 'ms';
import { z } from 'zod';
import { CHANNELS, type Channel } from '../workflows/definitions';
import { LOCALE_PATTERN } from './api/validation';
import { parseNetworks, type OutboundPolicy } from './net/outbound';
import { parseEncryptionKeys, type EncryptionKey } from './temporal/codec';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** A duration such as 500ms or 5m; `positive` also refuses zero (a retry interval or timeout of 0 is never meant). */
const duration = (fallback: string, { positive = false } = {}) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const parsed = ms(value.trim() as ms.StringValue);
      if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 30s, 5m or 1h' });
        return z.NEVER;
      }
      if (positive && parsed === 0) {
        ctx.addIssue({ code: 'custom', message: 'must be longer than zero' });
        return z.NEVER;
      }
      return parsed;
    });
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const csv = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/**
 * Faults `npm run chaos` injects to prove recovery paths that cannot be reached from outside:
 * `crash_before_workflow_start` kills the API process after a notification's row is committed and
 * before its workflow is started. Refused in production.
 */
export const FAULTS = ['crash_before_workflow_start'] as const;
export type Fault = (typeof FAULTS)[number];

/** Defaults per channel; every field is overridable with RETRY_<CHANNEL>_<FIELD>. */
const RETRY_DEFAULTS: Record<Channel, { initial: string; max: string; attempts: number; timeout: string; budget: string; configuration: string }> = {
  webhook: { initial: '2s', max: '5m', attempts: 10, timeout: '15s', budget: '2h', configuration: '10m' },
  fcm: { initial: '2s', max: '10m', attempts: 12, timeout: '60s', budget: '6h', configuration: '10m' },
  webpush: { initial: '2s', max: '10m', attempts: 12, timeout: '20s', budget: '6h', configuration: '10m' },
  telegram: { initial: '2s', max: '5m', attempts: 10, timeout: '15s', budget: '2h', configuration: '10m' },
  // Mail servers answer 4xx for greylisting and full mailboxes: wait longer, for longer.
  email: { initial: '30s', max: '30m', attempts: 12, timeout: '60s', budget: '12h', configuration: '10m' },
  sms: { initial: '5s', max: '10m', attempts: 10, timeout: '20s', budget: '2h', configuration: '10m' },
  kakao: { initial: '5s', max: '10m', attempts: 10, timeout: '20s', budget: '2h', configuration: '10m' },
};

const retryVar = (channel: Channel, field: string) => `RETRY_${channel.toUpperCase()}_${field}`;
/** SEND_<CHANNEL>_MAX_CONCURRENT and SEND_<CHANNEL>_MAX_PER_SECOND: the channel's worker slots and rate cap. */
const sendVar = (channel: Channel, field: string) => `SEND_${channel.toUpperCase()}_${field}`;
const retrySchema = z.object(
  Object.fromEntries(
    CHANNELS.flatMap((channel) => {
      const d = RETRY_DEFAULTS[channel];
      return [
        [retryVar(channel, 'INITIAL_INTERVAL'), duration(d.initial, { positive: true })],
        [retryVar(channel, 'MAX_INTERVAL'), duration(d.max, { positive: true })],
        [retryVar(channel, 'MAX_ATTEMPTS'), positiveInt.default(d.attempts)],
        [retryVar(channel, 'ATTEMPT_TIMEOUT'), duration(d.timeout, { positive: true })],
        [retryVar(channel, 'TOTAL_TIMEOUT'), duration(d.budget, { positive: true })],
        [retryVar(channel, 'CONFIGURATION_DELAY'), duration(d.configuration, { positive: true })],
        [sendVar(channel, 'MAX_CONCURRENT'), positiveInt.default(100)],
        [sendVar(channel, 'MAX_PER_SECOND'), z.coerce.number().positive().optional()],
      ];
    }),
  ) as Record<string, z.ZodType<number | undefined, string | undefined>>,
);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),
  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: z.url({ message: 'expected a postgres:// URL' }).optional(),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  API_KEYS: csv,
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  FAULT_INJECTION: csv.pipe(z.array(z.enum(FAULTS))),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('herald-notifications'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: z.string().optional(),
  // Secret: `id:base64key,…`, first one encrypts. Unset: payloads are stored as they are.
  PAYLOAD_ENCRYPTION_KEYS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      try {
        return parseEncryptionKeys(v.split(',').map((s) => s.trim()).filter(Boolean));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  CODEC_CORS_ORIGINS: csv,
  // A notification's run starts this long before its due time (halfway there when that is sooner), on a
  // start delay, then sleeps the rest on a timer (docs/workflow.md).
  START_DELAY_FROM: duration('5m'),
  TEMPORAL_UI_URL: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of the Temporal Web UI' }).optional(),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  WORKER_SHUTDOWN_GRACE: duration('20s'),
  WORKER_METRICS_PORT: port.default(9464),
  TEMPORAL_METRICS_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:9465')
    .optional(),
  // Worker sizing (see docs/performance.md). Sleeping notifications need no cache entry: they are
  // replayed from their short history when they wake, so the cache only has to hold the busy ones.
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(1000),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(100),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: positiveInt.default(100),
  WORKER_WORKFLOW_POLLERS: z.coerce.number().int().min(2).default(10),
  WORKER_ACTIVITY_POLLERS: positiveInt.default(10),
  WORKER_WORKFLOW_STACK_TRACES: z.stringbool().default(false),
  WORKER_STICKY_QUEUE_TIMEOUT: duration('5m', { positive: true }),
  WORKER_WORKFLOW_WATCHDOG: z.stringbool().default(false),
  // Unset: unbounded (docs/performance.md, "Memory": a bound too small for the cache stops the worker).
  WORKER_WORKFLOW_HEAP_MB: z.coerce.number().int().min(32).optional(),
  WEBHOOK_TIMEOUT: duration('10s'),
  // Unset: loopback allowed only in development (the embedded default); http allowed outside production.
  OUTBOUND_ALLOWED_NETWORKS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      try {
        return parseNetworks(v.split(',').map((s) => s.trim()).filter(Boolean));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  OUTBOUND_ALLOW_HTTP: z.stringbool().optional(),
  DEFAULT_LOCALE: z.string().regex(LOCALE_PATTERN, 'expected a locale such as en or en-US').default('en'),
  FCM_SERVICE_ACCOUNT_FILE: z.string().optional(),
  FCM_SERVICE_ACCOUNT_JSON: z.string().optional(),
  FCM_RATE_LIMIT_DELAY: duration('60s'),
  VAPID_PUBLIC_KEY: z.string().optional(),
  VAPID_PRIVATE_KEY: z.string().optional(),
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:|https:)/, 'expected a mailto: or https: contact for push services')
    .default('mailto:push-admin@localhost'),
  WEB_PUSH_ALLOWED_HOSTS: csv,
  WEB_PUSH_TTL: duration('1d'),
  WEB_PUSH_TIMEOUT: duration('10s'),
  TELEGRAM_BOT_TOKEN: z.string().optional(),
  TELEGRAM_API_BASE_URL: z.url({ message: 'expected an absolute URL' }).default('https://api.telegram.org'),
  TELEGRAM_TIMEOUT: duration('10s'),
  // Secret: carries the SMTP password. smtps:// for implicit TLS (465); smtp:// upgrades with STARTTLS when offered.
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'expected smtp://user:password@host:port or smtps://…' }).optional(),
  EMAIL_FROM: z.string().optional(),
  EMAIL_TIMEOUT: duration('30s', { positive: true }),
  /** Where recipients reach this API (unsubscribe links); the listening address by default. */
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL this API is reached at' }).optional(),
  // Secret: signs unsubscribe links. Unset outside production: generated once under DATA_DIR.
  UNSUBSCRIBE_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  UNSUBSCRIBE_LINK_TTL: duration('60d', { positive: true }),
  // Secrets: SOLAPI's API key pair, for SMS and KakaoTalk.
  SOLAPI_API_KEY: z.string().optional(),
  SOLAPI_API_SECRET: z.string().optional(),
  SOLAPI_BASE_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).default('https://api.solapi.com'),
  SOLAPI_TIMEOUT: duration('10s', { positive: true }),
  /** The sender number registered with the provider (Korean law requires a pre-registered one). */
  SMS_SENDER: z.string().optional(),
  /** Over 90 bytes (EUC-KR): send as LMS (up to 2,000 bytes, with the title as subject), or refuse. */
  SMS_LONG_MESSAGES: z.enum(['lms', 'refuse']).default('lms'),
  /** The KakaoTalk channel's profile id (pfId) that Alimtalk templates are approved under. */
  KAKAO_PF_ID: z.string().optional(),
  /** Region for phone numbers given without a country code. */
  PHONE_DEFAULT_COUNTRY: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 country code such as KR').default('KR'),
  REPORT_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  REPORT_API_KEY: z.string().optional(),
  ACTIVE_WINDOW_MINUTES: z.coerce.number().int().min(0).default(0),
  DELIVERY_OFF_RECHECK: duration('1m').refine((ms) => ms >= 1000, 'must be at least 1s'),
  THROTTLE_BURST: z.coerce.number().int().min(0).default(20),
  THROTTLE_PER_HOUR: z.coerce.number().min(0).default(20),
});

/** Every environment variable Herald reads (tools that start Herald set or clear exactly these). */
export const SETTING_NAMES: ReadonlySet<string> = new Set([...Object.keys(envSchema.shape), ...Object.keys(retrySchema.shape)]);

export interface RetrySettings {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  /** One attempt's limit (startToCloseTimeout). */
  attemptTimeoutMs: number;
  /** The whole retry budget (scheduleToCloseTimeout). */
  totalTimeoutMs: number;
  /**
   * The wait before trying again after the provider refused our own credentials or setup: long, so an
   * operator has time to fix them, and every push still within its budget goes out once they do.
   */
  configurationRetryDelayMs: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  logLevel: string;
  /** `auto`: readable lines on a terminal outside production, JSON otherwise. */
  logFormat: 'auto' | 'pretty' | 'json';
  /** `rateLimitPerMinute`: requests per API key per minute in one API process; 0: no limit. */
  api: { host: string; port: number; apiKeys: string[]; rateLimitPerMinute: number; faults: Fault[] };
  dataDir: string;
  database: { url?: string; pgliteDir: string; poolSize: number };
  temporal: {
    /** Unset: the embedded dev server is started. */
    address?: string;
    /** AES-256-GCM keys for every payload Herald gives Temporal; unset: none encrypted. */
    encryptionKeys?: EncryptionKey[];
    /** Browser origins allowed to call /v1/codec: the Temporal UI's by default. */
    codecCorsOrigins: string[];
    /** The Temporal Web UI, for links from the API to a notification's run; the embedded server's own UI by default. */
    uiUrl?: string;
    /** A notification due further ahead than this (ms) starts with a start delay that ends this long before its due time; it sleeps the rest on a timer. */
    startDelayFromMs: number;
    namespace: string;
    taskQueue: string;
    devServer: { port: number; uiPort: number; dbFile: string; cliPath?: string };
    shutdownGraceMs: number;
    worker: {
      maxCachedWorkflows: number;
      maxConcurrentWorkflowTasks: number;
      maxConcurrentActivities: number;
      maxConcurrentLocalActivities: number;
      workflowPollers: number;
      activityPollers: number;
      /** Answer the `__stack_trace` query (the UI's Stack Trace tab); it costs CPU on every workflow task. */
      workflowStackTraces: boolean;
      /** How long a workflow task waits for this worker (which holds the workflow in memory) before any worker may take it. */
      stickyQueueTimeoutMs: number;
      /** Stop a call into workflow code after 5 s (a runaway loop) instead of letting it hold the workflow thread. */
      workflowWatchdog: boolean;
      /** The bound of the workflow thread's V8 heap (old generation), MB; undefined: unbounded. */
      workflowHeapMb?: number;
    };
    /** A pre-built workflow bundle (production images); unset bundles the workflows at start-up. */
    workflowBundlePath?: string;
  };
  policy: {
    /** Cancel when the user was active this recently (minutes); per-type settings override it; 0 = off. */
    activeWindowMinutes: number;
    /** While delivery is switched off, held notifications look again this often. */
    deliveryOffRecheckMs: number;
    /** Recipient throttle per user × channel; 0 turns it off. */
    throttle: { burst: number; perHour: number };
  };
  metrics: {
    /** A worker running on its own serves Herald's /metrics here (0: not at all); with the API, the API's /metrics has them. */
    workerPort: number;
    /** Where the Temporal SDK's own Prometheus exporter listens (host:port); unset: not at all. */
    temporalSdkAddress?: string;
  };
  /** The one-click unsubscribe links in emails. */
  unsubscribe: {
    /** Where recipients reach this API; unset: the API's own listening address. */
    publicUrl?: string;
    /** Unset outside production: generated once under DATA_DIR. */
    signingKey?: string;
    linkTtlMs: number;
  };
  /** Delivery reports to the product's platform; off unless both are set. */
  reports: { url?: string; apiKey?: string };
  defaultLocale: string;
  /** Where user-supplied URLs (webhooks, Web Push endpoints) may lead. */
  outbound: OutboundPolicy;
  channels: {
    webhook: { timeoutMs: number };
    fcm?: { serviceAccountFile?: string; serviceAccountJson?: string };
    /** Wait after an FCM quota error (FCM's own Retry-After is not visible through firebase-admin). */
    fcmRateLimitDelayMs: number;
    webpush: {
      /** Unset outside production: the embedded default generates a key pair once under DATA_DIR. */
      vapid?: { publicKey: string; privateKey: string };
      subject: string;
      allowedHosts: string[];
      ttlSeconds: number;
      timeoutMs: number;
    };
    telegram?: { botToken: string; apiBaseUrl: string; timeoutMs: number };
    /** Off unless SMTP_URL is set. */
    email?: { smtpUrl: string; from: string; timeoutMs: number };
    /** SMS (and KakaoTalk with `kakaoPfId`) through SOLAPI; off unless its key pair and sender are set. */
    solapi?: { apiKey: string; apiSecret: string; baseUrl: string; timeoutMs: number; sender: string; longMessages: 'lms' | 'refuse'; kakaoPfId?: string };
    /** Region for phone numbers registered without a country code. */
    phoneDefaultCountry: string;
    retry: Record<Channel, RetrySettings>;
    /** Each channel's sends run on a task queue of their own, with these limits (docs/channels.md). */
    sending: Record<Channel, SendLimits>;
  };
}

export interface SendLimits {
  /** Sends of this channel one worker makes at once (its own slots: others' sends never wait for them). */
  maxConcurrent: number;
  /** Sends per second across all workers, enforced by the Temporal server; unset: no cap. */
  maxPerSecond?: number;
}

/** Parses and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most deployment tools.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const base = envSchema.safeParse(set);
  const retries = retrySchema.safeParse(set);
  const issues = [...(base.error?.issues ?? []), ...(retries.error?.issues ?? [])];
  if (!base.success || !retries.success || issues.length > 0) {
    throw new ConfigError(
      issues.map((issue) => {
        const name = issue.path.join('.');
        // Never echo a value that may hold a credential (a DATABASE_URL carries its password).
        const secret = /KEY|TOKEN|SECRET|PASSWORD|JSON|DATABASE_URL|SMTP_URL/.test(name);
        return `${name}: ${issue.message}${env[name] === undefined || secret ? '' : ` (got "${env[name]}")`}`;
      }),
    );
  }
  const e = base.data;
  if (Boolean(e.VAPID_PUBLIC_KEY) !== Boolean(e.VAPID_PRIVATE_KEY)) {
    throw new ConfigError(['VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY: set both or neither']);
  }
  const channelProblems = [
    ...(e.SMTP_URL && !e.EMAIL_FROM ? ['EMAIL_FROM: required with SMTP_URL (the sender address, e.g. "Herald <no-reply@example.com>")'] : []),
    ...(e.SMTP_URL && e.NODE_ENV === 'production' && !e.UNSUBSCRIBE_SIGNING_KEY ? ['UNSUBSCRIBE_SIGNING_KEY: required with SMTP_URL in production (API and workers must share it)'] : []),
    ...(e.SMTP_URL && e.NODE_ENV === 'production' && !e.PUBLIC_URL ? ['PUBLIC_URL: required with SMTP_URL in production (unsubscribe links point there)'] : []),
  ];
  const solapiSet = [e.SOLAPI_API_KEY, e.SOLAPI_API_SECRET, e.SMS_SENDER].filter(Boolean).length;
  if (solapiSet > 0 && solapiSet < 3) channelProblems.push('SOLAPI_API_KEY / SOLAPI_API_SECRET / SMS_SENDER: set all three (or none) to send SMS and KakaoTalk');
  if (e.KAKAO_PF_ID && solapiSet < 3) channelProblems.push('KAKAO_PF_ID: KakaoTalk needs SOLAPI_API_KEY, SOLAPI_API_SECRET and SMS_SENDER too');
  if (channelProblems.length > 0) throw new ConfigError(channelProblems);
  if (e.FAULT_INJECTION.length > 0 && e.NODE_ENV === 'production') {
    throw new ConfigError(['FAULT_INJECTION: faults are for npm run chaos, never for production']);
  }
  const r = retries.data as Record<string, number>;
  const configurationDelaySet = (channel: Channel) => set[retryVar(channel, 'CONFIGURATION_DELAY')] !== undefined;
  const retryProblems = CHANNELS.flatMap((channel) => {
    const [initial, max, attempt, total, configuration] = (['INITIAL_INTERVAL', 'MAX_INTERVAL', 'ATTEMPT_TIMEOUT', 'TOTAL_TIMEOUT', 'CONFIGURATION_DELAY'] as const).map((f) => r[retryVar(channel, f)]);
    return [
      ...(configurationDelaySet(channel) && configuration >= total ? [`${retryVar(channel, 'CONFIGURATION_DELAY')}: ${ms(configuration)} leaves no second attempt within ${retryVar(channel, 'TOTAL_TIMEOUT')} (${ms(total)})`] : []),
      ...(max < initial ? [`${retryVar(channel, 'MAX_INTERVAL')}: ${ms(max)} is shorter than ${retryVar(channel, 'INITIAL_INTERVAL')} (${ms(initial)})`] : []),
      ...(total < attempt ? [`${retryVar(channel, 'TOTAL_TIMEOUT')}: ${ms(total)} leaves no room for one attempt of ${retryVar(channel, 'ATTEMPT_TIMEOUT')} (${ms(attempt)})`] : []),
    ];
  });
  if (retryProblems.length > 0) throw new ConfigError(retryProblems);
  const dataDir = path.resolve(e.DATA_DIR);
  const retry = Object.fromEntries(
    CHANNELS.map((channel): [Channel, RetrySettings] => [
      channel,
      {
        initialIntervalMs: r[retryVar(channel, 'INITIAL_INTERVAL')],
        maximumIntervalMs: r[retryVar(channel, 'MAX_INTERVAL')],
        maximumAttempts: r[retryVar(channel, 'MAX_ATTEMPTS')],
        attemptTimeoutMs: r[retryVar(channel, 'ATTEMPT_TIMEOUT')],
        totalTimeoutMs: r[retryVar(channel, 'TOTAL_TIMEOUT')],
        // Unset, it adapts to a short budget, so that shortening TOTAL_TIMEOUT alone never leaves it without a retry.
        configurationRetryDelayMs: configurationDelaySet(channel)
          ? r[retryVar(channel, 'CONFIGURATION_DELAY')]
          : Math.min(r[retryVar(channel, 'CONFIGURATION_DELAY')], Math.floor(r[retryVar(channel, 'TOTAL_TIMEOUT')] / 4)),
      },
    ]),
  ) as Record<Channel, RetrySettings>;

  const sending = Object.fromEntries(
    CHANNELS.map((channel): [Channel, SendLimits] => [
      channel,
      { maxConcurrent: r[sendVar(channel, 'MAX_CONCURRENT')], ...(r[sendVar(channel, 'MAX_PER_SECOND')] ? { maxPerSecond: r[sendVar(channel, 'MAX_PER_SECOND')] } : {}) },
    ]),
  ) as Record<Channel, SendLimits>;

  const uiUrl = (e.TEMPORAL_UI_URL ?? (e.TEMPORAL_ADDRESS ? undefined : `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`))?.replace(/\/+$/, '');
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    api: { host: e.HOST, port: e.PORT, apiKeys: e.API_KEYS, rateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE, faults: e.FAULT_INJECTION },
    metrics: { workerPort: e.WORKER_METRICS_PORT, temporalSdkAddress: e.TEMPORAL_METRICS_ADDRESS },
    dataDir,
    database: { url: e.DATABASE_URL, pgliteDir: path.join(dataDir, 'pglite'), poolSize: e.DATABASE_POOL_SIZE },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      encryptionKeys: e.PAYLOAD_ENCRYPTION_KEYS,
      codecCorsOrigins: e.CODEC_CORS_ORIGINS.length > 0 ? e.CODEC_CORS_ORIGINS : uiUrl ? [new URL(uiUrl).origin] : [],
      uiUrl,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      startDelayFromMs: e.START_DELAY_FROM,
      devServer: {
        port: e.TEMPORAL_DEV_PORT,
        uiPort: e.TEMPORAL_UI_PORT,
        dbFile: path.join(dataDir, 'temporal.sqlite'),
        cliPath: e.TEMPORAL_CLI_PATH,
      },
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE,
      worker: {
        maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
        maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
        maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
        maxConcurrentLocalActivities: e.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
        workflowPollers: Math.min(e.WORKER_WORKFLOW_POLLERS, e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS),
        activityPollers: Math.min(e.WORKER_ACTIVITY_POLLERS, e.WORKER_MAX_CONCURRENT_ACTIVITIES),
        workflowStackTraces: e.WORKER_WORKFLOW_STACK_TRACES,
        stickyQueueTimeoutMs: e.WORKER_STICKY_QUEUE_TIMEOUT,
        workflowWatchdog: e.WORKER_WORKFLOW_WATCHDOG,
        workflowHeapMb: e.WORKER_WORKFLOW_HEAP_MB,
      },
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    policy: {
      activeWindowMinutes: e.ACTIVE_WINDOW_MINUTES,
      deliveryOffRecheckMs: e.DELIVERY_OFF_RECHECK,
      throttle: { burst: e.THROTTLE_BURST, perHour: e.THROTTLE_PER_HOUR },
    },
    defaultLocale: e.DEFAULT_LOCALE,
    outbound: {
      allowHttp: e.OUTBOUND_ALLOW_HTTP ?? e.NODE_ENV !== 'production',
      allowedNetworks: e.OUTBOUND_ALLOWED_NETWORKS ?? (e.NODE_ENV === 'development' ? parseNetworks(['127.0.0.0/8', '::1/128']) : []),
    },
    reports: { url: e.REPORT_URL, apiKey: e.REPORT_API_KEY },
    unsubscribe: { publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''), signingKey: e.UNSUBSCRIBE_SIGNING_KEY, linkTtlMs: e.UNSUBSCRIBE_LINK_TTL },
    channels: {
      webhook: { timeoutMs: e.WEBHOOK_TIMEOUT },
      fcm:
        e.FCM_SERVICE_ACCOUNT_FILE || e.FCM_SERVICE_ACCOUNT_JSON
          ? { serviceAccountFile: e.FCM_SERVICE_ACCOUNT_FILE, serviceAccountJson: e.FCM_SERVICE_ACCOUNT_JSON }
          : undefined,
      fcmRateLimitDelayMs: e.FCM_RATE_LIMIT_DELAY,
      webpush: {
        vapid: e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY ? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY } : undefined,
        subject: e.VAPID_SUBJECT,
        allowedHosts: e.WEB_PUSH_ALLOWED_HOSTS,
        ttlSeconds: Math.round(e.WEB_PUSH_TTL / 1000),
        timeoutMs: e.WEB_PUSH_TIMEOUT,
      },
      telegram: e.TELEGRAM_BOT_TOKEN
        ? { botToken: e.TELEGRAM_BOT_TOKEN, apiBaseUrl: e.TELEGRAM_API_BASE_URL, timeoutMs: e.TELEGRAM_TIMEOUT }
        : undefined,
      email: e.SMTP_URL ? { smtpUrl: e.SMTP_URL, from: e.EMAIL_FROM!, timeoutMs: e.EMAIL_TIMEOUT } : undefined,
      solapi:
        e.SOLAPI_API_KEY && e.SOLAPI_API_SECRET && e.SMS_SENDER
          ? {
              apiKey: e.SOLAPI_API_KEY,
              apiSecret: e.SOLAPI_API_SECRET,
              baseUrl: e.SOLAPI_BASE_URL.replace(/\/+$/, ''),
              timeoutMs: e.SOLAPI_TIMEOUT,
              sender: e.SMS_SENDER.replace(/\D/g, ''),
              longMessages: e.SMS_LONG_MESSAGES,
              kakaoPfId: e.KAKAO_PF_ID,
            }
          : undefined,
      phoneDefaultCountry: e.PHONE_DEFAULT_COUNTRY,
      retry,
      sending,
    },
  };
}
