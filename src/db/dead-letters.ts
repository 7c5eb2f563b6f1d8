// The dead-letter queue is not a second store: it is the FAILED notifications themselves, each with
// the per-target results its FAILED transition recorded. Discard and redrive move them on, in place.
import { and, desc, eq, gte, isNull, isNotNull, lt, lte, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { notifications } from '../../drizzle/schema';
import type { Channel, DeadLetterFilterInput, TargetResult } from '../../workflows/definitions';
import type { Executor } from './index';
import type { NotificationRow } from './notifications';
import { rowsOf, type Rows } from './raw';

export interface DeadLetterFilter {
  channel?: Channel;
  /** A target's error type: the provider error code (`fcm_token_unregistered`…) or why it was skipped. */
  errorType?: string;
  type?: string;
  userId?: string;
  failedFrom?: Date;
  failedTo?: Date;
  /** Only the discarded ones (true), or only those still waiting for an operator (false, the default). */
  discarded?: boolean;
  /** Leave these out (a bulk operation's failures, so it does not take them again). */
  exceptIds?: string[];
}

/** The filter as the API and a bulk operation's input carry it (ISO strings), for the queries. */
export function deadLetterFilterOf(f: DeadLetterFilterInput, extra: Pick<DeadLetterFilter, 'discarded' | 'exceptIds'> = {}): DeadLetterFilter {
  return {
    channel: f.channel,
    errorType: f.errorType,
    type: f.type,
    userId: f.userId,
    failedFrom: f.failedFrom ? new Date(f.failedFrom) : undefined,
    failedTo: f.failedTo ? new Date(f.failedTo) : undefined,
    ...extra,
  };
}

export interface DeadLetter {
  row: NotificationRow;
  /** The last result of every target, as the notification's latest FAILED transition recorded it. */
  targets: TargetResult[];
}

export interface DeadLetterCursor {
  failedAt: string;
  id: string;
}

/** The per-target results of the notification's latest failure (a discard repeats FAILED; it is skipped). */
const failedTargets = sql`(select t.details -> 'targets' from notification_transitions t
  where t.notification_id = ${notifications.id} and t.to_status = 'FAILED' and t.from_status is distinct from 'FAILED'
  order by t.seq desc limit 1)`;

/** A failed target (the element `e` of the failed targets) that matches the filter's channel and error type. */
const failedTargetMatches = (f: DeadLetterFilter) => sql`e ->> 'outcome' <> 'delivered'
  ${f.channel !== undefined ? sql`and e ->> 'channel' = ${f.channel}` : sql``}
  ${f.errorType !== undefined ? sql`and e ->> 'errorType' = ${f.errorType}` : sql``}`;

/** One translation of the filter into SQL, for the list, the counts and the bulk operations. */
export function deadLetterConditions(f: DeadLetterFilter): SQL | undefined {
  const targetMatch =
    f.channel !== undefined || f.errorType !== undefined
      ? sql`exists (select 1 from jsonb_array_elements(coalesce(${failedTargets}, '[]'::jsonb)) e where ${failedTargetMatches(f)})`
      : undefined;
  return and(
    eq(notifications.status, 'FAILED'),
    f.discarded ? isNotNull(notifications.discardedAt) : isNull(notifications.discardedAt),
    f.type !== undefined ? eq(notifications.type, f.type) : undefined,
    f.userId !== undefined ? eq(notifications.userId, f.userId) : undefined,
    f.failedFrom ? gte(notifications.completedAt, f.failedFrom) : undefined,
    f.failedTo ? lte(notifications.completedAt, f.failedTo) : undefined,
    f.exceptIds?.length ? notInArray(notifications.id, f.exceptIds) : undefined,
    targetMatch,
  );
}

/** Newest failure first, keyset-paginated on (failed at, id). */
export async function listDeadLetters(
  db: Executor,
  filter: DeadLetterFilter,
  limit: number,
  after?: DeadLetterCursor,
): Promise<{ items: DeadLetter[]; next?: DeadLetterCursor }> {
  const afterCursor = after
    ? or(
        lt(notifications.completedAt, new Date(after.failedAt)),
        and(eq(notifications.completedAt, new Date(after.failedAt)), lt(notifications.id, after.id)),
      )
    : undefined;
  const rows = await db
    .select({ row: notifications, targets: sql<TargetResult[] | null>`${failedTargets}` })
    .from(notifications)
    .where(and(deadLetterConditions(filter), afterCursor))
    .orderBy(desc(notifications.completedAt), desc(notifications.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit).map(({ row, targets }) => ({ row, targets: targets ?? [] }));
  const last = page.at(-1)?.row;
  return {
    items: page,
    next: rows.length > limit && last?.completedAt ? { failedAt: last.completedAt.toISOString(), id: last.id } : undefined,
  };
}

export interface DeadLetterCount {
  channel: string;
  errorType: string;
  /** Start of the hour or day (UTC), ISO-8601. */
  period: string;
  count: number;
}

/** Failed targets counted by channel × error type × hour or day (UTC), oldest period first. */
export async function countDeadLetters(db: Executor, filter: DeadLetterFilter, per: 'hour' | 'day'): Promise<DeadLetterCount[]> {
  const period = sql.raw(per === 'day' ? `'day'` : `'hour'`);
  const result = await db.execute(sql`
    select e ->> 'channel' as channel,
           coalesce(e ->> 'errorType', 'unknown') as "errorType",
           to_char(date_trunc(${period}, ${notifications.completedAt} at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as period,
           count(*)::int as count
    from ${notifications}
    cross join lateral jsonb_array_elements(coalesce(${failedTargets}, '[]'::jsonb)) e
    where ${deadLetterConditions(filter)} and ${failedTargetMatches(filter)}
    group by 1, 2, 3
    order by 3, 1, 2`);
  return rowsOf(result as unknown as Rows<DeadLetterCount>);
}

export async function deadLetterIds(db: Executor, filter: DeadLetterFilter, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: notifications.id })
    .from(notifications)
    .where(deadLetterConditions(filter))
    .orderBy(notifications.completedAt, notifications.id)
    .limit(limit);
  return rows.map((r) => r.id);
}

export async function countMatchingDeadLetters(db: Executor, filter: DeadLetterFilter): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(notifications).where(deadLetterConditions(filter));
  return row.n;
}

/** Who did it and why: recorded with every operator action on a dead letter. */
export interface OperatorNote {
  by: string;
  reason: string;
}

/**
 * Moves a FAILED notification on by one transition, in one statement: only from the status sequence
 * the caller read (so of two concurrent operators exactly one succeeds), and only from FAILED.
 * True when this call wrote it.
 */
async function moveFailed(
  db: Executor,
  id: string,
  fromSeq: number,
  to: { status: 'FAILED' | 'SCHEDULED'; reason: string; details: Record<string, unknown>; set: SQL; actor?: string },
): Promise<boolean> {
  const at = new Date();
  const result = await db.execute(sql`
    with current as (
      select id from ${notifications} where id = ${id} and status = 'FAILED' and status_seq = ${fromSeq} for update
    ), inserted as (
      insert into notification_transitions (notification_id, seq, from_status, to_status, reason, details, at, actor)
      select id, ${fromSeq + 1}, 'FAILED', ${to.status}, ${to.reason}, ${JSON.stringify(to.details)}::jsonb, ${at.toISOString()}::timestamptz, ${to.actor ?? null} from current
      on conflict do nothing
      returning notification_id
    ), updated as (
      update ${notifications} set status_seq = ${fromSeq + 1}, updated_at = ${at.toISOString()}::timestamptz, ${to.set}
      where id = (select notification_id from inserted)
      returning 1
    )
    select count(*)::int as moved from updated`);
  return rowsOf(result as unknown as Rows<{ moved: number }>)[0].moved === 1;
}

/** Marks a FAILED notification as handled: it keeps its row and its status, and leaves the list. */
export function discardFailed(db: Executor, row: NotificationRow, note: OperatorNote): Promise<boolean> {
  return moveFailed(db, row.id, row.statusSeq, {
    status: 'FAILED',
    reason: 'discarded',
    details: { ...note },
    actor: note.by,
    set: sql`discarded_at = now()`,
  });
}

/** FAILED → SCHEDULED(redriven): the notification is pending again, due at `scheduledAt`. */
export function reopenFailed(db: Executor, row: NotificationRow, note: OperatorNote & { scheduledAt: string }): Promise<boolean> {
  return moveFailed(db, row.id, row.statusSeq, {
    status: 'SCHEDULED',
    reason: 'redriven',
    details: { ...note },
    actor: note.by,
    set: sql`status = 'SCHEDULED', status_reason = 'redriven', scheduled_at = ${note.scheduledAt}::timestamptz,
      completed_at = null, sending_started_at = null, discarded_at = null`,
  });
}

/** The highest attempt number logged for a notification, so that a redriven run numbers on from it. */
export async function lastAttemptNumber(db: Executor, id: string): Promise<number> {
  const result = await db.execute(sql`select coalesce(max(attempt), 0)::int as last from delivery_attempts where notification_id = ${id}`);
  return rowsOf(result as unknown as Rows<{ last: number }>)[0].last;
}
