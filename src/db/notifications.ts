import { and, asc, eq, notInArray } from 'drizzle-orm';
import { TERMINAL_STATUSES, type NotificationInput, type NotificationStatus } from '../../workflows/definitions';
import type { Executor } from './index';
import { deliveryAttempts, notifications, notificationTransitions } from '../../drizzle/schema';

export type NotificationRow = typeof notifications.$inferSelect;
export type NewNotification = typeof notifications.$inferInsert;

/** The row a notification starts with; the API and the workflow's first activity build it the same way. */
export function initialRow(input: NotificationInput): NewNotification {
  return {
    id: input.notificationId,
    idempotencyKey: input.idempotencyKey,
    requestFingerprint: input.requestFingerprint,
    workflowId: input.notificationId,
    userId: input.userId,
    type: input.type,
    category: input.category,
    status: 'SCHEDULED',
    channels: input.channels,
    routing: input.routing,
    content: input.content,
    collapseKey: input.collapseKey ?? null,
    metadata: input.metadata ?? null,
    scheduledAt: new Date(input.scheduledAt),
    expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
  };
}

/** Inserts the notification unless its idempotency key exists; true when this call created it. */
export async function insertNotification(db: Executor, row: NewNotification): Promise<boolean> {
  const inserted = await db
    .insert(notifications)
    .values(row)
    .onConflictDoNothing({ target: notifications.idempotencyKey })
    .returning({ id: notifications.id });
  return inserted.length === 1;
}

export async function findNotification(db: Executor, id: string): Promise<NotificationRow | undefined> {
  const [row] = await db.select().from(notifications).where(eq(notifications.id, id));
  return row;
}

export async function findByIdempotencyKey(db: Executor, key: string): Promise<NotificationRow | undefined> {
  const [row] = await db.select().from(notifications).where(eq(notifications.idempotencyKey, key));
  return row;
}

export async function notificationHistory(db: Executor, id: string) {
  const [transitions, attempts] = await Promise.all([
    db
      .select()
      .from(notificationTransitions)
      .where(eq(notificationTransitions.notificationId, id))
      .orderBy(asc(notificationTransitions.seq)),
    db
      .select()
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.notificationId, id))
      .orderBy(asc(deliveryAttempts.startedAt), asc(deliveryAttempts.id)),
  ]);
  return { transitions, attempts };
}

export interface TransitionRecord {
  notificationId: string;
  /** Position in the workflow's own sequence: makes the write idempotent under activity retries. */
  seq: number;
  from?: NotificationStatus;
  to: NotificationStatus;
  reason?: string;
  details?: Record<string, unknown>;
  at: string;
  replacedBy?: string;
}

/**
 * Writes one status change: the transition row and the notification's current status. A terminal
 * status is never overwritten, and replaying the same `seq` changes nothing.
 */
export async function applyTransition(db: Executor, t: TransitionRecord): Promise<void> {
  const at = new Date(t.at);
  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(notificationTransitions)
      .values({
        notificationId: t.notificationId,
        seq: t.seq,
        fromStatus: t.from ?? null,
        toStatus: t.to,
        reason: t.reason ?? null,
        details: t.details ?? null,
        at,
      })
      .onConflictDoNothing()
      .returning({ id: notificationTransitions.id });
    if (inserted.length === 0) return;
    const terminal = (TERMINAL_STATUSES as readonly string[]).includes(t.to);
    await tx
      .update(notifications)
      .set({
        status: t.to,
        statusReason: t.reason ?? null,
        updatedAt: at,
        ...(t.to === 'SENDING' ? { sendingStartedAt: at } : {}),
        ...(terminal ? { completedAt: at } : {}),
        ...(t.replacedBy ? { replacedBy: t.replacedBy } : {}),
      })
      .where(and(eq(notifications.id, t.notificationId), notInArray(notifications.status, [...TERMINAL_STATUSES])));
  });
}
