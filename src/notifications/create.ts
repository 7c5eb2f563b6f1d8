import type { NotificationInput } from '../../workflows/definitions';
import { apiError } from '../api/errors';
import type { Database } from '../db';
import { findByIdempotencyKey, initialRow, insertNotification } from '../db/notifications';
import { notificationIdFor } from '../ids';
import type { TemporalGateway } from '../temporal/gateway';
import { requestFingerprint, type CreateNotificationRequest } from './request';

export interface CreateDeps {
  db: Database;
  temporal: TemporalGateway;
}

/**
 * Accepts a notification exactly once per idempotency key. The row insert and the workflow start
 * share one transaction: a concurrent duplicate waits on the unique key until this one commits, and
 * a failed start leaves nothing behind. (If the process dies after the start but before the commit,
 * the workflow's first activity writes the row itself.)
 */
export async function createNotification(
  { db, temporal }: CreateDeps,
  request: CreateNotificationRequest,
  idempotencyKey: string,
): Promise<{ id: string; replay: boolean }> {
  const fingerprint = requestFingerprint(request);
  const id = notificationIdFor(idempotencyKey);
  const input: NotificationInput = {
    notificationId: id,
    idempotencyKey,
    requestFingerprint: fingerprint,
    userId: request.userId,
    type: request.type,
    category: request.category ?? request.type,
    channels: request.channels,
    routing: request.routing,
    content: request.content,
    scheduledAt: request.scheduledAt ?? new Date().toISOString(),
    expiresAt: request.expiresAt,
    collapseKey: request.collapseKey,
    metadata: request.metadata,
  };

  const created = await db.transaction(async (tx) => {
    if (!(await insertNotification(tx, initialRow(input)))) return false;
    if (!(await temporal.startNotification(input))) {
      throw apiError(409, 'idempotency_key_reused', 'a notification with this idempotency key has already run');
    }
    return true;
  });
  if (created) return { id, replay: false };

  const existing = await findByIdempotencyKey(db, idempotencyKey);
  if (!existing) throw new Error(`idempotency key conflict without a row for ${id}`);
  if (existing.requestFingerprint !== fingerprint) {
    throw apiError(
      409,
      'idempotency_key_reused',
      'this Idempotency-Key was already used with a different request body; use a new key for a new notification',
      { notificationId: existing.id },
    );
  }
  return { id: existing.id, replay: true };
}
