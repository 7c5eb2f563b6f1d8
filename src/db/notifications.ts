import { and, asc, eq, inArray, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import {
  PENDING_STATUSES,
  TERMINAL_STATUSES,
  type Change,
  type NotificationInput,
  type NotificationStatus,
} from '../../workflows/definitions';
import type { Database, Executor } from './index';
import { json, query, rowValues } from './raw';
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
    // Millisecond precision, like the list cursor that points at it (Postgres' now() has microseconds).
    createdAt: new Date(),
  };
}

/**
 * Records an accepted notification — its row and its first transition, SCHEDULED(accepted) — and
 * marks the pending notifications it replaces. Undefined when the idempotency key exists already
 * (a concurrent duplicate committed first; the unique key made this call wait for it).
 *
 * A notification that can replace others (a collapse key, or a type with a replacement window) takes
 * a per-user lock first and claims in the same transaction, so of two concurrent creates the later
 * one always sees (and replaces) the earlier: never two survivors. One that replaces nothing is a
 * single statement with no lock, which also reads the type's window and inserts only when there is
 * none: whichever order it lands in relative to a replacing one is an order the two requests could
 * have arrived in.
 */
export interface Admission {
  /** The API key (its id) asking: the actor of SCHEDULED(accepted). */
  actor?: string;
  /**
   * For a type that refuses recipients over the limit: run under the recipient's lock before the
   * insert; a number (ms to wait) refuses the notification.
   */
  overLimitWait?: (tx: Executor) => Promise<number | undefined>;
}

export async function acceptNotification(db: Database, input: NotificationInput, { actor, overLimitWait }: Admission = {}) {
  const row = acceptedRow(input);
  const accepted = { id: 0, notificationId: row.id, seq: 1, fromStatus: null, toStatus: 'SCHEDULED' as const, reason: 'accepted', details: null, at: row.createdAt, actor: actor ?? null };
  const { columns, values } = rowValues(notifications, row);
  const insert = (tx: Executor, onlyIf: SQL) =>
    query<{ inserted: number; replaceWindow: number; refusesOverLimit: boolean }>(
      tx,
      sql`with type_row as (
        select replace_window_minutes, over_limit from type_settings where type = ${input.type}
      ), type_window as (
        select coalesce((select replace_window_minutes from type_row), 0) as minutes,
          coalesce((select over_limit from type_row), 'defer') = 'refuse' as refuses
      ), inserted as (
        insert into notifications (${columns}) select ${values} where ${onlyIf}
        on conflict (idempotency_key) do nothing returning id
      ), first as (
        insert into notification_transitions (notification_id, seq, to_status, reason, at, actor)
        select id, 1, 'SCHEDULED', 'accepted', ${row.createdAt.toISOString()}::timestamptz, ${actor ?? null} from inserted
      )
      select (select count(*) from inserted)::int as inserted, (select minutes from type_window) as "replaceWindow",
        (select refuses from type_window) as "refusesOverLimit"`,
    ).then(([result]) => result);
  // A type that refuses recipients over the limit is admitted under the recipient's lock, like a replacing one.
  const unlocked = overLimitWait ? sql`(select minutes from type_window) <= 0 and not (select refuses from type_window)` : sql`(select minutes from type_window) <= 0`;
  let refuses = false;
  if (!input.collapseKey) {
    const result = await insert(db, unlocked);
    if (result.inserted === 1) return { row, accepted, replaced: [] as NotificationRow[] };
    refuses = Boolean(overLimitWait) && result.refusesOverLimit;
    if (result.replaceWindow <= 0 && !refuses) return undefined;
  }
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`herald:user:${input.userId}`}))`);
    // With a collapse key nothing has read the type's setting yet.
    if (overLimitWait && input.collapseKey) {
      const [type] = await query<{ overLimit: string }>(tx, sql`select over_limit as "overLimit" from type_settings where type = ${input.type}`);
      refuses = type?.overLimit === 'refuse';
    }
    const waitMs = refuses ? await overLimitWait?.(tx) : undefined;
    if (waitMs !== undefined) return { refusedForMs: waitMs };
    const result = await insert(tx, sql`true`);
    if (result.inserted !== 1) return undefined;
    return { row, accepted, replaced: await claimReplaced(tx, input, result.replaceWindow) };
  });
}

/** The row of a notification as the API accepts it, every column filled in, so nothing needs reading back. */
function acceptedRow(input: NotificationInput): NotificationRow {
  const createdAt = new Date();
  return {
    ...(initialRow(input) as NotificationRow),
    statusReason: 'accepted',
    statusSeq: 1,
    collapseKey: input.collapseKey ?? null,
    metadata: input.metadata ?? null,
    expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
    replacedBy: null,
    sendingStartedAt: null,
    discardedAt: null,
    completedAt: null,
    createdAt,
    updatedAt: createdAt,
  };
}

/**
 * Nothing recorded since its acceptance: its workflow may never have started (the create died before
 * the start) or may still wait on its start delay, running no code until its due time.
 */
export const untouchedSinceAcceptance = (row: Pick<NotificationRow, 'status' | 'statusSeq'>): boolean => row.status === 'SCHEDULED' && row.statusSeq === 1;

/** Takes back an accepted notification whose workflow could not start: the row, and its claims on others. */
export async function withdrawNotification(db: Database, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(notifications).set({ replacedBy: null }).where(eq(notifications.replacedBy, id));
    await tx.delete(notifications).where(eq(notifications.id, id));
  });
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
  /** A reschedule or content replacement carried by this transition. */
  changes?: Change;
  /** The API key (its id) whose request this is; none for Herald's own steps. */
  actor?: string;
}

/** Statements that ride along with a transition, in the same statement (so the same commit). */
export interface AlongsideTransition {
  /** Runs whether or not the transition is new (the attempt log of a send: the send happened either way). */
  always?: SQL;
  /** Runs only when the transition row is new, so never again on a retried write; given the condition to add. */
  ifNew?: (isNew: SQL) => SQL;
}

/**
 * Writes one status change: the transition row and the notification's current status, in one
 * statement (so without a transaction of its own), together with what rides `alongside`. Replaying
 * the same `seq` changes nothing, an older `seq` never overwrites a newer one, nor anything a
 * terminal status. True when this call wrote the row; false when `seq` was already recorded (a
 * retried attempt whose first try committed).
 */
export async function applyTransition(db: Executor, t: TransitionRecord, alongside: AlongsideTransition = {}): Promise<boolean> {
  // Written as one flat statement rather than with the query builder: this runs twice for every
  // notification, and building the statement from builder objects cost more CPU than sending it.
  const at = new Date(t.at).toISOString();
  const terminal = (TERMINAL_STATUSES as readonly string[]).includes(t.to);
  // A notification that was sent after all (its replacement lost the race) is no longer "replaced".
  const replacedBy = t.replacedBy ? sql`, replaced_by = ${t.replacedBy}` : terminal && t.to !== 'CANCELLED' ? sql`, replaced_by = null` : sql``;
  const changes = t.changes ?? {};
  // The status moves only when the transition row is new (a retried write must not move it again),
  // never back to an older seq, and never off a terminal status.
  const statement = sql`with ${alongside.always ? sql`always as (${alongside.always}), ` : sql``}inserted as (
      insert into notification_transitions (notification_id, seq, from_status, to_status, reason, details, at, actor)
      values (${t.notificationId}, ${t.seq}, ${t.from ?? null}, ${t.to}, ${t.reason ?? null}, ${json(t.details)}::jsonb, ${at}::timestamptz, ${t.actor ?? null})
      on conflict do nothing
      returning notification_id
    ), ${alongside.ifNew ? sql`if_new as (${alongside.ifNew(sql`exists (select 1 from inserted)`)}), ` : sql``}updated as (
      update notifications
      set status = ${t.to}, status_reason = ${t.reason ?? null}, status_seq = ${t.seq}, updated_at = ${at}::timestamptz${
        t.to === 'SENDING' ? sql`, sending_started_at = ${at}::timestamptz` : sql``
      }${terminal ? sql`, completed_at = ${at}::timestamptz` : sql``}${replacedBy}${
        changes.scheduledAt ? sql`, scheduled_at = ${new Date(changes.scheduledAt).toISOString()}::timestamptz` : sql``
      }${changes.content ? sql`, content = ${json(changes.content)}::jsonb` : sql``}
      where id = (select notification_id from inserted) and status_seq < ${t.seq} and status not in (${sql.join(
        TERMINAL_STATUSES.map((status) => sql`${status}`),
        sql`, `,
      )})
      returning 1
    )
    select count(*)::int as inserted from inserted`;
  // Postgres executes every data-modifying CTE, whether or not the statement reads it.
  const [{ inserted }] = await query<{ inserted: number }>(db, statement);
  return inserted === 1;
}

/** The transition recorded at `seq`, if any. */
export async function findTransition(db: Executor, notificationId: string, seq: number) {
  const [row] = await db
    .select()
    .from(notificationTransitions)
    .where(and(eq(notificationTransitions.notificationId, notificationId), eq(notificationTransitions.seq, seq)));
  return row;
}

/** Marks the user's pending notifications that `input` replaces (same collapse key, or due within ±windowMinutes of it) and returns them as now stored. */
async function claimReplaced(tx: Executor, input: NotificationInput, windowMinutes: number): Promise<NotificationRow[]> {
  const dueAt = new Date(input.scheduledAt);
  const near =
    windowMinutes > 0
      ? sql`${notifications.scheduledAt} between ${new Date(dueAt.getTime() - windowMinutes * 60_000)} and ${new Date(dueAt.getTime() + windowMinutes * 60_000)}`
      : undefined;
  const sameKey = input.collapseKey ? eq(notifications.collapseKey, input.collapseKey) : undefined;
  if (!near && !sameKey) return [];
  return tx
    .update(notifications)
    .set({ replacedBy: input.notificationId, updatedAt: sql`now()` })
    .where(
      and(
        eq(notifications.userId, input.userId),
        ne(notifications.id, input.notificationId),
        inArray(notifications.status, [...PENDING_STATUSES]),
        isNull(notifications.replacedBy),
        or(sameKey, near),
      ),
    )
    .returning();
}
