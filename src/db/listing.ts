import { and, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { notifications } from '../../drizzle/schema';
import type { NotificationStatus } from '../../workflows/definitions';
import type { Executor } from './index';
import type { NotificationRow } from './notifications';

export interface NotificationFilter {
  userId?: string;
  type?: string;
  statuses?: NotificationStatus[];
  createdFrom?: Date;
  createdTo?: Date;
  scheduledFrom?: Date;
  scheduledTo?: Date;
}

/** One translation of a filter into SQL, shared by listing and bulk cancel. */
export function filterConditions(f: NotificationFilter): SQL | undefined {
  return and(
    f.userId !== undefined ? eq(notifications.userId, f.userId) : undefined,
    f.type !== undefined ? eq(notifications.type, f.type) : undefined,
    f.statuses?.length ? inArray(notifications.status, f.statuses) : undefined,
    f.createdFrom ? gte(notifications.createdAt, f.createdFrom) : undefined,
    f.createdTo ? lte(notifications.createdAt, f.createdTo) : undefined,
    f.scheduledFrom ? gte(notifications.scheduledAt, f.scheduledFrom) : undefined,
    f.scheduledTo ? lte(notifications.scheduledAt, f.scheduledTo) : undefined,
  );
}

export interface Cursor {
  createdAt: string;
  id: string;
}

/**
 * Newest first, keyset-paginated on (created_at, id): rows inserted while a client pages through
 * are newer than its cursor, so they never shift or repeat a page.
 */
export async function listNotifications(
  db: Executor,
  filter: NotificationFilter,
  limit: number,
  after?: Cursor,
): Promise<{ rows: NotificationRow[]; next?: Cursor }> {
  const afterCursor = after
    ? or(
        lt(notifications.createdAt, new Date(after.createdAt)),
        and(eq(notifications.createdAt, new Date(after.createdAt)), lt(notifications.id, after.id)),
      )
    : undefined;
  const rows = await db
    .select()
    .from(notifications)
    .where(and(filterConditions(filter), afterCursor))
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > limit && last ? { createdAt: last.createdAt.toISOString(), id: last.id } : undefined };
}

export async function countNotifications(db: Executor, filter: NotificationFilter): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(notifications).where(filterConditions(filter));
  return row.n;
}

export async function matchingIds(db: Executor, filter: NotificationFilter, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: notifications.id })
    .from(notifications)
    .where(filterConditions(filter))
    .orderBy(notifications.scheduledAt, notifications.id)
    .limit(limit);
  return rows.map((r) => r.id);
}
