import type { deliveryAttempts } from '../../drizzle/schema';
import type { Channel } from '../../workflows/definitions';
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

/**
 * An attempt-log row a send could not write because Postgres was unreachable just then. The send
 * does not fail for it (that would send again): it hands the row to the workflow, which writes it
 * with `recordLateAttempts` once the database answers.
 */
export type UnrecordedAttempt = Omit<NewAttempt, 'startedAt'> & { startedAt: string; finishedAt: string };

export const unrecorded = (a: NewAttempt): UnrecordedAttempt => ({ ...a, startedAt: a.startedAt.toISOString(), finishedAt: new Date().toISOString() });

/**
 * Writes rows that were handed back unwritten, or rows for channels passed over. Idempotent: a row
 * already there (same notification, channel, target, attempt number and start instant) is not
 * written twice when the write itself is retried.
 */
export async function recordLateAttempts(db: Executor, attempts: UnrecordedAttempt[]): Promise<void> {
  if (attempts.length === 0) return;
  const rows = attempts.map((a) => ({
    notification_id: a.notificationId,
    target_id: a.targetId,
    channel: a.channel,
    target_hint: a.targetHint,
    attempt: a.attempt,
    outcome: a.outcome,
    provider_message_id: a.providerMessageId ?? null,
    http_status: a.httpStatus ?? null,
    error_code: a.errorCode ?? null,
    error_message: a.errorMessage ?? null,
    rendered: a.rendered ?? null,
    started_at: a.startedAt,
    finished_at: a.finishedAt,
  }));
  await db.execute(sql`insert into delivery_attempts (notification_id, target_id, channel, target_hint, attempt, outcome, provider_message_id, http_status, error_code, error_message, rendered, started_at, finished_at)
    select r.* from jsonb_to_recordset(${json(rows)}::jsonb) as r(notification_id text, target_id text, channel text, target_hint text, attempt integer, outcome text, provider_message_id text, http_status integer, error_code text, error_message text, rendered jsonb, started_at timestamptz, finished_at timestamptz)
    where not exists (
      select 1 from delivery_attempts d
      where d.notification_id = r.notification_id and d.channel = r.channel and d.target_id = r.target_id and d.attempt = r.attempt and d.started_at = r.started_at
    )`);
}

/**
 * The attempt-log rows of channels the due time passed over (the recipient has no active target on
 * them, or the deployment no longer sends on them): nothing was sent, so no attempt was made
 * (`attempt` 0), but the log says why the channel stayed silent. They carry the instant SENDING was
 * recorded, so a retried due-time activity writes the same rows and `recordLateAttempts` keeps one.
 */
export function skippedChannelRows(notificationId: string, skipped: { channel: Channel; errorType?: string }[], at: string): UnrecordedAttempt[] {
  return skipped.map(({ channel, errorType }) => ({
    notificationId,
    targetId: '',
    channel,
    targetHint: '',
    attempt: 0,
    outcome: 'skipped',
    errorCode: errorType ?? 'no_active_target',
    errorMessage: errorType === 'channel_not_configured' ? 'this deployment does not send on this channel' : 'the recipient has no active target on this channel',
    startedAt: at,
    finishedAt: at,
  }));
}
