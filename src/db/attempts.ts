import type { deliveryAttempts } from '../../drizzle/schema';
import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from './index';
import { json } from './raw';

export type AttemptRow = typeof deliveryAttempts.$inferSelect;
export type NewAttempt = Omit<typeof deliveryAttempts.$inferInsert, 'id' | 'finishedAt'>;

/**
 * The insert of one attempt-log row, to run on its own or inside another statement (one per provider
 * call, so a flat statement rather than the query builder's, which costs more CPU to build).
 */
export function attemptInsert(a: NewAttempt): SQL {
  return sql`insert into delivery_attempts (notification_id, target_id, channel, target_hint, attempt, outcome, provider_message_id, http_status, error_code, error_message, rendered, started_at, finished_at)
    values (${a.notificationId}, ${a.targetId}, ${a.channel}, ${a.targetHint}, ${a.attempt}, ${a.outcome}, ${a.providerMessageId ?? null}, ${a.httpStatus ?? null}, ${a.errorCode ?? null}, ${a.errorMessage ?? null}, ${json(a.rendered)}::jsonb, ${a.startedAt.toISOString()}::timestamptz, ${new Date().toISOString()}::timestamptz)`;
}

export async function recordAttempt(db: Executor, attempt: NewAttempt): Promise<void> {
  await db.execute(attemptInsert(attempt));
}
