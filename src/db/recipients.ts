import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import {
  categorySettings,
  channelSettings,
  settings,
  targets,
  typeSettings,
  userPreferences,
  type QuietHoursPolicy,
} from '../../drizzle/schema';
import type { Channel } from '../../workflows/definitions';
import type { Executor } from './index';
import { isOneOf, query, rowFromJson } from './raw';
import type { TargetRow } from './targets';
import type { Bucket } from '../policy/throttle';

export type Preferences = typeof userPreferences.$inferSelect;
export type TypeSettings = typeof typeSettings.$inferSelect;

export async function findPreferences(db: Executor, userId: string): Promise<Preferences | undefined> {
  const [row] = await db.select().from(userPreferences).where(eq(userPreferences.userId, userId));
  return row;
}

export async function savePreferences(
  db: Executor,
  userId: string,
  prefs: Pick<Preferences, 'timeZone' | 'quietHours' | 'optedOutCategories' | 'locale'> & Partial<Pick<Preferences, 'preferredChannels' | 'disabledChannels'>>,
): Promise<Preferences> {
  const [row] = await db
    .insert(userPreferences)
    .values({ userId, ...prefs })
    .onConflictDoUpdate({ target: userPreferences.userId, set: { ...prefs, updatedAt: sql`now()` } })
    .returning();
  return row;
}

/** Adds one category to the recipient's opt-outs, keeping the rest of their preferences; a repeat changes nothing. */
export async function optOutOfCategory(db: Executor, userId: string, category: string): Promise<void> {
  const one = sql`jsonb_build_array(${category}::text)`;
  await db
    .insert(userPreferences)
    .values({ userId, optedOutCategories: [category] })
    .onConflictDoUpdate({
      target: userPreferences.userId,
      set: {
        optedOutCategories: sql`case when ${userPreferences.optedOutCategories} @> ${one} then ${userPreferences.optedOutCategories} else ${userPreferences.optedOutCategories} || ${one} end`,
        updatedAt: sql`now()`,
      },
    });
}

/** Records activity; an older report never moves `lastActiveAt` back. */
export async function recordActivity(db: Executor, userId: string, at: Date): Promise<Date> {
  const [row] = await db
    .insert(userPreferences)
    .values({ userId, lastActiveAt: at })
    .onConflictDoUpdate({
      target: userPreferences.userId,
      set: { lastActiveAt: sql`greatest(${userPreferences.lastActiveAt}, excluded.last_active_at)`, updatedAt: sql`now()` },
    })
    .returning({ lastActiveAt: userPreferences.lastActiveAt });
  return row.lastActiveAt!;
}

export async function findTypeSettings(db: Executor, type: string): Promise<TypeSettings | undefined> {
  const [row] = await db.select().from(typeSettings).where(eq(typeSettings.type, type));
  return row;
}

/** The settings a type can have; a field left out of a save keeps its stored value (or its default). */
export type TypeSettingsChange = Partial<Pick<TypeSettings, 'activeWindowMinutes' | 'replaceWindowMinutes' | 'deliveryEnabled' | 'overLimit'>>;

export async function saveTypeSettings(db: Executor, type: string, values: TypeSettingsChange): Promise<TypeSettings> {
  const [row] = await db
    .insert(typeSettings)
    .values({ type, ...values })
    .onConflictDoUpdate({ target: typeSettings.type, set: { ...values, updatedAt: sql`now()` } })
    .returning();
  return row;
}

export async function listTypeSettings(db: Executor): Promise<TypeSettings[]> {
  return db.select().from(typeSettings).orderBy(typeSettings.type);
}

export async function findCategorySettings(db: Executor, category: string) {
  const [row] = await db.select().from(categorySettings).where(eq(categorySettings.category, category));
  return row;
}

export async function listCategorySettings(db: Executor) {
  return db.select().from(categorySettings).orderBy(categorySettings.category);
}

/** The categories among `categories` that are mandatory. */
export async function mandatoryAmong(db: Executor, categories: string[]): Promise<string[]> {
  if (categories.length === 0) return [];
  const rows = await db
    .select({ category: categorySettings.category })
    .from(categorySettings)
    .where(and(eq(categorySettings.mandatory, true), inArray(categorySettings.category, categories)));
  return rows.map((r) => r.category).sort();
}

export async function saveCategorySettings(db: Executor, category: string, { quietHours, mandatory }: { quietHours: QuietHoursPolicy; mandatory: boolean }) {
  const [row] = await db
    .insert(categorySettings)
    .values({ category, quietHours, mandatory })
    .onConflictDoUpdate({ target: categorySettings.category, set: { quietHours, mandatory, updatedAt: sql`now()` } })
    .returning();
  return row;
}

export type ChannelSettings = typeof channelSettings.$inferSelect;

export async function findChannelSettings(db: Executor, channel: Channel): Promise<ChannelSettings | undefined> {
  const [row] = await db.select().from(channelSettings).where(eq(channelSettings.channel, channel));
  return row;
}

export async function listChannelSettings(db: Executor): Promise<ChannelSettings[]> {
  return db.select().from(channelSettings).orderBy(channelSettings.channel);
}

export async function saveChannelSettings(db: Executor, channel: Channel, { quietHours }: Pick<ChannelSettings, 'quietHours'>): Promise<ChannelSettings> {
  const [row] = await db
    .insert(channelSettings)
    .values({ channel, quietHours })
    .onConflictDoUpdate({ target: channelSettings.channel, set: { quietHours, updatedAt: sql`now()` } })
    .returning();
  return row;
}

const DELIVERY_SWITCH = 'delivery_enabled';

/** What the due-time checks read about one notification; `targets` only for the channels asked for. */
export interface DueTimeContext {
  replacedBy: string | null;
  /** The due time it was accepted or last rescheduled for. */
  scheduledAt: Date;
  prefs: Preferences | undefined;
  typeSettings: TypeSettings | undefined;
  deliveryEnabled: boolean;
  quietHoursPolicy: QuietHoursPolicy;
  /** The category is mandatory: the recipient's opt-out does not apply to it. */
  categoryMandatory: boolean;
  /** The recipient's active targets on `channels`, oldest first. */
  targets: TargetRow[];
  /** Quiet hours of the notification's own channels, where a channel has them. */
  channelQuietHours: Array<{ channel: Channel; quietHours: { start: string; end: string } }>;
}

/**
 * Everything the due time reads, in one flat statement: whether the notification was replaced, the
 * recipient's preferences and active targets, its type's and category's settings and the global
 * delivery switch. Undefined if the notification is unknown.
 */
export async function dueTimeContext(
  db: Executor,
  ids: { notificationId: string; userId: string; type: string; category: string; channels: readonly Channel[] },
  channels: readonly Channel[] = [],
): Promise<DueTimeContext | undefined> {
  type Raw = {
    replacedBy: string | null;
    scheduledAt: string | Date;
    prefs: string | null;
    typeSettings: string | null;
    deliverySwitch: string | null;
    categorySettings: string | null;
    targets: string | null;
    channelQuietHours: string | null;
  };
  const [row] = await query<Raw>(
    db,
    sql`select n.replaced_by as "replacedBy", n.scheduled_at as "scheduledAt",
      (select to_json(p)::text from user_preferences p where p.user_id = ${ids.userId}) as "prefs",
      (select to_json(t)::text from type_settings t where t.type = ${ids.type}) as "typeSettings",
      (select s.value::text from settings s where s.key = ${DELIVERY_SWITCH}) as "deliverySwitch",
      (select to_json(c)::text from category_settings c where c.category = ${ids.category}) as "categorySettings",
      (select json_agg(t order by t.created_at, t.id)::text from targets t
        where t.user_id = ${ids.userId} and ${isOneOf(sql`t.channel`, channels)} and t.disabled_at is null) as "targets",
      (select json_agg(json_build_object('channel', q.channel, 'quietHours', q.quiet_hours) order by q.channel)::text from channel_settings q
        where ${isOneOf(sql`q.channel`, ids.channels)} and q.quiet_hours is not null) as "channelQuietHours"
    from notifications n where n.id = ${ids.notificationId}`,
  );
  if (!row) return undefined;
  const parsed = <T extends PgTable>(table: T, text: string | null) => (text == null ? undefined : rowFromJson(table, JSON.parse(text)));
  const category = parsed(categorySettings, row.categorySettings);
  return {
    replacedBy: row.replacedBy,
    scheduledAt: new Date(row.scheduledAt),
    prefs: parsed(userPreferences, row.prefs),
    typeSettings: parsed(typeSettings, row.typeSettings),
    deliveryEnabled: row.deliverySwitch !== 'false',
    quietHoursPolicy: category?.quietHours ?? 'defer',
    categoryMandatory: category?.mandatory ?? false,
    targets: row.targets == null ? [] : (JSON.parse(row.targets) as Record<string, unknown>[]).map((t) => rowFromJson(targets, t)),
    channelQuietHours: row.channelQuietHours == null ? [] : (JSON.parse(row.channelQuietHours) as DueTimeContext['channelQuietHours']),
  };
}

export async function deliveryEnabled(db: Executor): Promise<boolean> {
  const [row] = await db.select().from(settings).where(eq(settings.key, DELIVERY_SWITCH));
  return row ? row.value !== false : true;
}

export async function setDeliveryEnabled(db: Executor, enabled: boolean): Promise<void> {
  await db
    .insert(settings)
    .values({ key: DELIVERY_SWITCH, value: enabled })
    .onConflictDoUpdate({ target: settings.key, set: { value: enabled, updatedAt: sql`now()` } });
}

/** A recipient's bucket for one channel, as the throttle reads it. */
export interface ChannelBucket extends Bucket {
  channel: Channel;
}

/** One `(user_id, channel, tokens, updated_at)` row of throttle_buckets, for a flat insert. */
const bucketRow = (userId: string, channel: Channel, tokens: number, at: Date) =>
  sql`(${userId}, ${channel}, ${tokens}::double precision, ${at.toISOString()}::timestamptz)`;

/**
 * The recipient's buckets for these channels, locked until the surrounding transaction ends, in one
 * statement. A missing bucket is created full; an existing one is "updated" to itself, which locks
 * it as FOR UPDATE would, so two concurrent first checks never both see an imaginary full bucket.
 * Channels are locked in one order, so two checks of the same recipient cannot deadlock.
 */
export async function lockBuckets(db: Executor, userId: string, channels: Channel[], full: { tokens: number; at: Date }): Promise<ChannelBucket[]> {
  const rows = [...channels].sort().map((channel) => bucketRow(userId, channel, full.tokens, full.at));
  const locked = await query<{ channel: Channel; tokens: number | string; updatedAt: string | Date }>(
    db,
    sql`insert into throttle_buckets (user_id, channel, tokens, updated_at) values ${sql.join(rows, sql`, `)}
      on conflict (user_id, channel) do update set tokens = throttle_buckets.tokens
      returning channel, tokens, updated_at as "updatedAt"`,
  );
  return locked.map((b) => ({ channel: b.channel, tokens: Number(b.tokens), updatedAt: new Date(b.updatedAt) }));
}

/** Writes the buckets' new token counts, to ride along with the transition that spends them (`ifNew`). */
export function bucketsSaved(userId: string, buckets: { channel: Channel; tokens: number }[], at: Date) {
  const rows = buckets.map(({ channel, tokens }) => bucketRow(userId, channel, tokens, at));
  return (when: SQL) => sql`insert into throttle_buckets (user_id, channel, tokens, updated_at)
    select * from (values ${sql.join(rows, sql`, `)}) as spent (user_id, channel, tokens, updated_at) where ${when}
    on conflict (user_id, channel) do update set tokens = excluded.tokens, updated_at = excluded.updated_at`;
}

/**
 * A recipient's throttle buckets on `channels` as they are (read, not locked), and how many of its
 * notifications wait to be sent within the hour: what the admission check of a refusing type weighs.
 */
export async function recipientLoad(db: Executor, userId: string, channels: Channel[], at: Date): Promise<{ buckets: Array<ChannelBucket | undefined>; pending: number }> {
  // One after the other: inside a transaction both go down the same connection anyway.
  const rows = await query<{ channel: Channel; tokens: number | string; updatedAt: string | Date }>(
    db,
    sql`select channel, tokens, updated_at as "updatedAt" from throttle_buckets where user_id = ${userId} and channel in (${sql.join(channels.map((c) => sql`${c}`), sql`, `)})`,
  );
  const [counted] = await query<{ pending: number }>(
    db,
    sql`select count(*)::int as pending from notifications where user_id = ${userId} and status in ('SCHEDULED', 'DEFERRED')
      and scheduled_at <= ${new Date(at.getTime() + 3_600_000).toISOString()}::timestamptz`,
  );
  const buckets = rows.map((b) => ({ channel: b.channel, tokens: Number(b.tokens), updatedAt: new Date(b.updatedAt) }));
  return { buckets: channels.map((c) => buckets.find((b) => b.channel === c)), pending: counted.pending };
}
