import type { Channel, NotificationInput } from '../../workflows/definitions';
import { apiError } from '../api/errors';
import type { Database } from '../db';
import { claimReplaced, findByIdempotencyKey, initialRow, insertNotification, type NotificationRow } from '../db/notifications';
import { findTypeSettings } from '../db/recipients';
import type { Logger } from '../logger';
import { notificationIdFor } from '../ids';
import type { TemporalGateway } from '../temporal/gateway';
import { requestFingerprint, type CreateNotificationRequest } from './request';
import { TemplateNotFoundError, type Renderer } from './templates';

export interface CreateDeps {
  db: Database;
  temporal: TemporalGateway;
  log: Logger;
  /** Channels this deployment can send on. */
  channels: Channel[];
  renderer: Renderer;
}

/** Refuses, before anything is stored, a notification that could never be sent as asked. */
async function checkSendable({ channels, renderer }: CreateDeps, input: NotificationInput): Promise<void> {
  const missing = input.channels.filter((c) => !channels.includes(c));
  if (missing.length > 0) {
    throw apiError(422, 'channel_not_configured', `channel ${missing.join(', ')} is not configured on this deployment`, {
      channels: missing,
      configured: channels,
    });
  }
  for (const channel of input.channels) {
    try {
      await renderer.render(input.content, channel, input.userId);
    } catch (err) {
      if (err instanceof TemplateNotFoundError) {
        throw apiError(422, 'template_not_found', err.message, { key: err.key, channel, localesTried: err.locales });
      }
      throw err;
    }
  }
}

/**
 * Accepts a notification exactly once per idempotency key. The row insert and the workflow start
 * share one transaction: a concurrent duplicate waits on the unique key until this one commits, and
 * a failed start leaves nothing behind. (If the process dies after the start but before the commit,
 * the workflow's first activity writes the row itself.)
 */
export async function createNotification(
  deps: CreateDeps,
  request: CreateNotificationRequest,
  idempotencyKey: string,
): Promise<{ id: string; replay: boolean; replaced: string[] }> {
  const { db, temporal, log } = deps;
  const fingerprint = requestFingerprint(request);
  const id = notificationIdFor(idempotencyKey);
  const input: NotificationInput = {
    notificationId: id,
    idempotencyKey,
    requestFingerprint: fingerprint,
    userId: request.userId,
    type: request.type,
    category: request.category,
    channels: request.channels,
    routing: request.routing,
    content: request.template ? { template: request.template } : request.content!,
    scheduledAt: request.scheduledAt ?? new Date().toISOString(),
    expiresAt: request.expiresAt,
    collapseKey: request.collapseKey,
    metadata: request.metadata,
  };

  // A replay answers with what was accepted, whatever changed since (templates, channels, settings).
  const known = await findByIdempotencyKey(db, idempotencyKey);
  if (known) return replayOf(known, fingerprint);

  await checkSendable(deps, input);
  const replaceWindow = (await findTypeSettings(db, input.type))?.replaceWindowMinutes ?? 0;
  const replaced = await db.transaction(async (tx) => {
    if (!(await insertNotification(tx, initialRow(input)))) return undefined;
    const older = await claimReplaced(tx, input, replaceWindow);
    if (!(await temporal.startNotification(input))) {
      throw apiError(409, 'idempotency_key_reused', 'a notification with this idempotency key has already run');
    }
    return older;
  });
  if (!replaced) {
    // A concurrent request with the same key committed first; this one waited on the unique key.
    const winner = await findByIdempotencyKey(db, idempotencyKey);
    if (!winner) throw new Error(`idempotency key conflict without a row for ${id}`);
    return replayOf(winner, fingerprint);
  }
  // After the commit: the older workflows end CANCELLED(replaced) now rather than at their due time.
  await Promise.all(
    replaced.map((oldId) =>
      temporal.supersede(oldId, id).catch((err) => log.warn({ err, notificationId: oldId }, 'supersede signal failed; the due-time check will catch it')),
    ),
  );
  return { id, replay: false, replaced };
}

/** The answer to a repeated key: the same notification, or 409 when the body differs. */
function replayOf(existing: NotificationRow, fingerprint: string) {
  if (existing.requestFingerprint !== fingerprint) {
    throw apiError(
      409,
      'idempotency_key_reused',
      'this Idempotency-Key was already used with a different request body; use a new key for a new notification',
      { notificationId: existing.id },
    );
  }
  return { id: existing.id, replay: true, replaced: [] as string[] };
}
