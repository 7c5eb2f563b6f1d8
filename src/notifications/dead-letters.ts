import { apiError } from '../api/errors';
import type { Database } from '../db';
import { discardFailed, lastAttemptNumber, reopenFailed, type OperatorNote } from '../db/dead-letters';
import { findNotification, type NotificationRow } from '../db/notifications';
import type { DeliveryReporter } from '../reports';
import type { TemporalGateway } from '../temporal/gateway';
import { inputOf } from './create';

export interface DeadLetterDeps {
  db: Database;
  temporal: TemporalGateway;
  reporter: DeliveryReporter;
}

async function existing(db: Database, id: string): Promise<NotificationRow> {
  const row = await findNotification(db, id);
  if (!row) throw apiError(404, 'notification_not_found', `no notification with id ${id}`);
  return row;
}

const notFailed = (row: NotificationRow, action: string) =>
  apiError(409, 'not_failed', `only a FAILED notification can be ${action}; this one is ${row.status}`, {
    status: row.status,
    statusReason: row.statusReason,
  });

/** Marks a FAILED notification as handled. Discarding a discarded one again changes nothing. */
export async function discardNotification({ db }: DeadLetterDeps, id: string, note: OperatorNote): Promise<void> {
  const row = await existing(db, id);
  if (row.status !== 'FAILED') throw notFailed(row, 'discarded');
  if (row.discardedAt) return;
  if (await discardFailed(db, row, note)) return;
  // Another operator moved it first (a discard, or a redrive): answer from where it is now.
  const now = await existing(db, id);
  if (now.status !== 'FAILED') throw notFailed(now, 'discarded');
}

/**
 * Sends a FAILED notification again. Postgres records FAILED → SCHEDULED(redriven) first; then a new
 * workflow run starts under the same workflow id, carrying on the transition sequence and the
 * attempt numbers. Should the start not happen (the API dies, Temporal is unreachable), redriving
 * again starts it: a notification left SCHEDULED(redriven) without a run is completed, not refused.
 */
export async function redriveNotification(
  { db, temporal, reporter }: DeadLetterDeps,
  id: string,
  note: OperatorNote & { scheduledAt?: string },
): Promise<{ alreadyRedriven: boolean }> {
  const row = await existing(db, id);
  if (row.status === 'SCHEDULED' && row.statusReason === 'redriven') {
    await startRedriven(db, temporal, row);
    return { alreadyRedriven: true };
  }
  if (row.status !== 'FAILED') throw notFailed(row, 'redriven');
  const scheduledAt = note.scheduledAt ?? new Date().toISOString();
  if (!(await reopenFailed(db, row, { by: note.by, reason: note.reason, scheduledAt }))) {
    // A concurrent redrive or discard won: answer from where the notification is now.
    const now = await existing(db, id);
    if (now.status === 'SCHEDULED' && now.statusReason === 'redriven') return { alreadyRedriven: true };
    throw notFailed(now, 'redriven');
  }
  const reopened = await existing(db, id);
  reporter.transitionRecorded({ notificationId: id, to: 'SCHEDULED', reason: 'redriven', at: reopened.updatedAt.toISOString() });
  await startRedriven(db, temporal, reopened);
  return { alreadyRedriven: false };
}

/** Starts (or finds running) the run of a notification recorded as SCHEDULED(redriven). */
async function startRedriven(db: Database, temporal: TemporalGateway, row: NotificationRow): Promise<void> {
  const scheduledAt = row.scheduledAt.toISOString();
  await temporal.startNotification(
    {
      ...inputOf(row),
      resume: { seq: row.statusSeq, status: 'SCHEDULED', reason: 'redriven', dueAt: scheduledAt },
      attemptOffset: await lastAttemptNumber(db, row.id),
    },
    { redrive: true },
  );
}
