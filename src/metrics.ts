// Herald's own Prometheus metrics. Every process has one registry of its own (the embedded default
// serves API and worker metrics together on the API's /metrics; a worker on its own serves them on
// its metrics port). Label values come from closed sets that Herald defines (statuses, reasons,
// channels, error codes), plus notification types, which callers name: those are capped, so a
// caller sending a new type with every request cannot grow the series without bound.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestHandler } from 'express';
import { sql } from 'drizzle-orm';
import { PENDING_STATUSES, type Channel, type NotificationStatus } from '../workflows/definitions';
import type { Database } from './db';
import { query } from './db/raw';
import type { DeliveryReporter } from './reports';

/** Distinct notification types a process labels before it counts the rest as `other`. */
export const MAX_TYPE_LABELS = 200;

/** How long a database gauge reading is reused: a scrape storm must not become a query storm. */
const GAUGE_CACHE_MS = 5_000;
const TARGETS_CACHE_MS = 60_000;

export type AttemptOutcome = 'delivered' | 'permanent_error' | 'retryable_error' | 'rate_limited_error' | 'configuration_error' | string;
export type ReportOutcome = 'sent' | 'failed' | 'dropped';

export interface Metrics {
  readonly registry: Registry;
  notificationCreated(type: string, channels: readonly Channel[]): void;
  transitionRecorded(to: NotificationStatus, reason: string | undefined): void;
  attemptMade(channel: Channel, outcome: AttemptOutcome, errorType: string | undefined): void;
  /** A provider said the target is gone for good (404/410, unregistered token, blocked bot): it was disabled. */
  targetDisabled(channel: Channel, errorType: string): void;
  /** How long after its due time a notification began sending, once per channel it is sent on. */
  sendingBegan(channels: readonly Channel[], latenessMs: number): void;
  reportFinished(outcome: ReportOutcome): void;
  /** Express middleware: request duration by route pattern (never the raw path) and status. */
  httpRequests: RequestHandler;
  /** Gauges read from Postgres when scraped: pending notifications by status, and the dead-letter list. */
  watchDatabase(db: Database): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'herald_' });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter({ name, help, labelNames, registers });

  const created = counter('herald_notifications_created_total', 'Notifications accepted (new idempotency keys only), by type and the channels they were sent to (joined with +).', ['type', 'channels'] as const);
  const transitions = counter('herald_transitions_total', 'Status transitions recorded in Postgres, by the status reached and its reason.', ['status', 'reason'] as const);
  const attempts = counter('herald_send_attempts_total', 'Provider calls, by channel, outcome and error type (none when delivered).', ['channel', 'outcome', 'error_type'] as const);
  const disabled = counter('herald_targets_disabled_total', 'Targets disabled because the provider said they are gone for good, by channel and error type.', ['channel', 'error_type'] as const);
  const lateness = new Histogram({
    name: 'herald_send_lateness_seconds',
    help: 'Time from a notification\'s due time (its scheduledAt) to the start of sending, by channel; deferred notifications waited on purpose and are not observed.',
    labelNames: ['channel'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers,
  });
  const reports = counter('herald_delivery_reports_total', 'Delivery reports to the platform, by outcome: sent, failed (every try failed) or dropped (too many under way).', ['outcome'] as const);
  const requestDuration = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'API requests, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });

  const types = new Set<string>();
  const typeLabel = (type: string) => {
    if (types.has(type)) return type;
    if (types.size >= MAX_TYPE_LABELS) return 'other';
    types.add(type);
    return type;
  };

  let watching = false;

  return {
    registry,
    notificationCreated: (type, channels) => created.inc({ type: typeLabel(type), channels: [...channels].sort().join('+') }),
    transitionRecorded: (to, reason) => transitions.inc({ status: to, reason: reason ?? 'none' }),
    attemptMade: (channel, outcome, errorType) => attempts.inc({ channel, outcome, error_type: errorType ?? 'none' }),
    targetDisabled: (channel, errorType) => disabled.inc({ channel, error_type: errorType }),
    sendingBegan: (channels, latenessMs) => {
      for (const channel of channels) lateness.observe({ channel }, Math.max(0, latenessMs) / 1000);
    },
    reportFinished: (outcome) => reports.inc({ outcome }),
    httpRequests: (req, res, next) => {
      const end = requestDuration.startTimer();
      res.on('finish', () => {
        // The matched pattern (`/v1/notifications/:id`), never the path itself: ids must not become labels.
        // Every router is mounted at a fixed prefix, so baseUrl holds no id either.
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}`.replace(/(.)\/$/, '$1') : 'unmatched';
        end({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    },
    watchDatabase(db) {
      if (watching) return;
      watching = true;
      const counts = cachedReading(() => readCounts(db), GAUGE_CACHE_MS);
      // A scan of every target: read less often.
      const targets = cachedReading(() => readActiveTargets(db), TARGETS_CACHE_MS);
      new Gauge({
        name: 'herald_pending_notifications',
        help: 'Notifications not yet ended, by status: SCHEDULED, DEFERRED or SENDING.',
        labelNames: ['status'] as const,
        registers,
        async collect() {
          const { pending } = await counts();
          for (const status of [...PENDING_STATUSES, 'SENDING'] as const) this.set({ status }, pending[status] ?? 0);
        },
      });
      new Gauge({
        name: 'herald_overdue_notifications',
        help: 'SCHEDULED notifications more than a minute past their due time: no worker is taking them, or it is far behind.',
        registers,
        async collect() {
          this.set((await counts()).overdue);
        },
      });
      new Gauge({
        name: 'herald_dead_letters',
        help: 'Notifications in the dead-letter list: FAILED and not discarded.',
        registers,
        async collect() {
          this.set((await counts()).deadLetters);
        },
      });
      new Gauge({
        name: 'herald_active_targets',
        help: 'Registered targets not disabled, by channel.',
        labelNames: ['channel'] as const,
        registers,
        async collect() {
          this.reset();
          for (const [channel, count] of Object.entries(await targets())) this.set({ channel }, count);
        },
      });
    },
  };
}

/** Shares one reading among the scrapes of `ms` milliseconds. */
function cachedReading<T>(read: () => Promise<T>, ms: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ms) {
      const value = read();
      last = { at: Date.now(), value };
      // A failed reading is not kept: the next scrape tries again.
      value.catch(() => (last = undefined));
    }
    return last.value;
  };
}

interface Counts {
  pending: Partial<Record<NotificationStatus, number>>;
  overdue: number;
  deadLetters: number;
}

async function readCounts(db: Database): Promise<Counts> {
  // Index scans only: (status, scheduled_at) for the pending ones, the dead-letter partial index for the rest.
  const [row] = await query<{ pending: Record<string, number> | string | null; overdue: number; deadLetters: number }>(
    db,
    sql`select
        (select json_object_agg(status, n) from (
          select status, count(*)::int as n from notifications where status in ('SCHEDULED', 'DEFERRED', 'SENDING') group by status) s) as pending,
        (select count(*)::int from notifications where status = 'SCHEDULED' and scheduled_at < now() - interval '1 minute') as overdue,
        (select count(*)::int from notifications where status = 'FAILED' and discarded_at is null) as "deadLetters"`,
  );
  const pending = typeof row.pending === 'string' ? JSON.parse(row.pending) : (row.pending ?? {});
  return { pending, overdue: row.overdue, deadLetters: row.deadLetters };
}

async function readActiveTargets(db: Database): Promise<Record<string, number>> {
  const rows = await query<{ channel: string; n: number }>(db, sql`select channel, count(*)::int as n from targets where disabled_at is null group by channel`);
  return Object.fromEntries(rows.map((r) => [r.channel, r.n]));
}

/** The reporter, counting every transition it is told of: each is one this process has just recorded in Postgres. */
export function countingTransitions(reporter: DeliveryReporter, metrics: Metrics): DeliveryReporter {
  return {
    transitionRecorded(transition) {
      metrics.transitionRecorded(transition.to, transition.reason);
      reporter.transitionRecorded(transition);
    },
    settled: () => reporter.settled(),
  };
}
