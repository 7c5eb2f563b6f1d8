// Delivery reports: Herald tells the product's platform what became of each push, with the contract
// of the scheduler it replaces. Best effort by design: a report is sent after the status is recorded,
// outside the delivery's path; it is retried a few times, then dropped with a warning, and it can
// never change, delay or fail a delivery.
import { asc, eq } from 'drizzle-orm';
import { deliveryAttempts } from '../drizzle/schema';
import type { Channel, Metadata, NotificationStatus, TargetResult } from '../workflows/definitions';
import type { Config } from './config';
import type { Database } from './db';
import { findNotification, type NotificationRow, type TransitionRecord } from './db/notifications';
import { safeError, type Logger } from './logger';
import type { Metrics } from './metrics';

export type ReportStatus = 'SCHEDULED' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** The body of `POST {REPORT_URL}/push-delivery/report`. */
export interface DeliveryReport {
  pushId: string;
  status: ReportStatus;
  timestamp: string;
  pushType: string;
  sessionId: string | null;
  userId: string;
  channel?: Channel;
  error?: string;
  retryCount?: number;
  scheduledAt: string;
  metadata?: Metadata;
}

/** What each recorded status is reported as; statuses not listed (SENDING, DEFERRED) are not reported. */
const REPORTED: Partial<Record<NotificationStatus, ReportStatus>> = {
  SCHEDULED: 'SCHEDULED',
  DELIVERED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
  // The contract has no EXPIRED: the platform learns it was not sent, and why.
  EXPIRED: 'FAILED',
};

export interface DeliveryReporter {
  /**
   * Reports a transition this process has just recorded, if its status is one the platform hears
   * about. Returns at once; the report goes out in the background.
   */
  transitionRecorded(transition: Pick<TransitionRecord, 'notificationId' | 'to' | 'reason' | 'details' | 'at'>): void;
  /** Resolves once every report under way has been sent or dropped (tests, shutdown). */
  settled(): Promise<void>;
}

const TIMEOUT_MS = 5000;
/** Tries per report, and the waits between them. */
const RETRY_DELAYS_MS = [1000, 4000];
/** Reports under way at once; past this, new ones are dropped rather than queued without bound. */
const MAX_IN_FLIGHT = 200;

export function createDeliveryReporter(
  settings: Config['reports'],
  db: Database,
  log: Logger,
  metrics?: Pick<Metrics, 'reportFinished'>,
): DeliveryReporter {
  const inFlight = new Set<Promise<void>>();
  if (!settings.url || !settings.apiKey) {
    const why = settings.url || settings.apiKey ? 'REPORT_URL and REPORT_API_KEY must both be set' : 'REPORT_URL is not set';
    return {
      transitionRecorded: (t) => (REPORTED[t.to] ? log.debug({ notificationId: t.notificationId, status: t.to }, `delivery report skipped: ${why}`) : undefined),
      settled: async () => undefined,
    };
  }
  const endpoint = `${settings.url.replace(/\/+$/, '')}/push-delivery/report`;
  const apiKey = settings.apiKey;

  async function post(report: DeliveryReport): Promise<void> {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`report receiver answered HTTP ${response.status}`);
  }

  async function deliver(transition: Parameters<DeliveryReporter['transitionRecorded']>[0]): Promise<void> {
    const row = await findNotification(db, transition.notificationId);
    if (!row) return;
    const report = await reportOf(db, row, transition);
    for (let attempt = 0; ; attempt++) {
      try {
        await post(report);
        metrics?.reportFinished('sent');
        return;
      } catch (err) {
        if (attempt >= RETRY_DELAYS_MS.length) {
          metrics?.reportFinished('failed');
          log.warn({ notificationId: row.id, status: report.status, err: safeError(err) }, 'delivery report dropped after retries');
          return;
        }
        await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]).unref());
      }
    }
  }

  return {
    transitionRecorded(transition) {
      if (!REPORTED[transition.to]) return;
      if (inFlight.size >= MAX_IN_FLIGHT) {
        metrics?.reportFinished('dropped');
        log.warn({ notificationId: transition.notificationId, status: transition.to }, 'delivery report dropped: too many under way');
        return;
      }
      const sending = deliver(transition)
        .catch((err) => {
          metrics?.reportFinished('failed');
          log.warn({ notificationId: transition.notificationId, err: safeError(err) }, 'delivery report dropped');
        })
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

/** The report of one transition, from the notification's own row: a replaced one keeps its own sessionId and type. */
async function reportOf(
  db: Database,
  row: NotificationRow,
  transition: Parameters<DeliveryReporter['transitionRecorded']>[0],
): Promise<DeliveryReport> {
  const status = REPORTED[transition.to]!;
  const sessionId = row.metadata?.sessionId;
  const report: DeliveryReport = {
    pushId: row.id,
    status,
    timestamp: new Date(transition.at).toISOString(),
    pushType: row.type,
    sessionId: sessionId === undefined || sessionId === null ? null : String(sessionId),
    userId: row.userId,
    scheduledAt: row.scheduledAt.toISOString(),
    ...(row.metadata ? { metadata: row.metadata } : {}),
  };
  if (status === 'SCHEDULED' || status === 'CANCELLED') return report;

  const attempts = await db
    .select({ channel: deliveryAttempts.channel, outcome: deliveryAttempts.outcome, targetId: deliveryAttempts.targetId })
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.notificationId, row.id))
    .orderBy(asc(deliveryAttempts.startedAt), asc(deliveryAttempts.id));
  const retryCount = Math.max(0, attempts.length - new Set(attempts.map((a) => a.targetId)).size);
  if (status === 'COMPLETED') {
    const channel = attempts.find((a) => a.outcome === 'delivered')?.channel ?? row.channels[0];
    return { ...report, channel, retryCount };
  }
  if (transition.to === 'EXPIRED') return { ...report, error: 'expired: expiresAt passed before it could be sent' };
  const targets = ((transition.details as { targets?: TargetResult[] } | undefined)?.targets ?? []).filter((t) => t.outcome !== 'delivered');
  const error = targets.length
    ? targets.map((t) => `${t.channel}: ${t.errorType ?? t.outcome}${t.message ? ` (${t.message})` : ''}`).join('; ')
    : (transition.reason ?? 'failed');
  return { ...report, error, retryCount, ...(targets.length === 1 ? { channel: targets[0].channel } : {}) };
}
