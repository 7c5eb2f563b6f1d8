import type { Database } from '../db';
import { findNotification, notificationHistory, type NotificationRow } from '../db/notifications';

/** The JSON shape of a notification in every API answer. */
export function notificationView(row: NotificationRow) {
  return {
    id: row.id,
    idempotencyKey: row.idempotencyKey,
    status: row.status,
    statusReason: row.statusReason,
    userId: row.userId,
    type: row.type,
    category: row.category,
    channels: row.channels,
    routing: row.routing,
    content: row.content,
    collapseKey: row.collapseKey,
    metadata: row.metadata,
    scheduledAt: row.scheduledAt,
    expiresAt: row.expiresAt,
    replacedBy: row.replacedBy,
    sendingStartedAt: row.sendingStartedAt,
    completedAt: row.completedAt,
    discardedAt: row.discardedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** A notification with its transition log and attempt log, as GET /v1/notifications/:id shows it. */
export async function notificationDetail(db: Database, id: string) {
  const row = await findNotification(db, id);
  if (!row) return undefined;
  return detailOf(row, await notificationHistory(db, id));
}

type History = Awaited<ReturnType<typeof notificationHistory>>;

export function detailOf(row: NotificationRow, { transitions, attempts }: History) {
  return {
    ...notificationView(row),
    transitions: transitions.map((t) => ({
      from: t.fromStatus,
      to: t.toStatus,
      reason: t.reason,
      details: t.details,
      at: t.at,
      actor: t.actor,
    })),
    attempts: attempts.map((a) => ({
      channel: a.channel,
      targetId: a.targetId,
      target: a.targetHint,
      attempt: a.attempt,
      outcome: a.outcome,
      providerMessageId: a.providerMessageId,
      httpStatus: a.httpStatus,
      errorCode: a.errorCode,
      errorMessage: a.errorMessage,
      rendered: a.rendered,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt,
    })),
  };
}

export type NotificationDetail = NonNullable<Awaited<ReturnType<typeof notificationDetail>>>;
