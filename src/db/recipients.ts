import { eq, sql } from 'drizzle-orm';
import {
  categorySettings,
  notifications,
  settings,
  throttleBuckets,
  typeSettings,
  userPreferences,
  type QuietHoursPolicy,
} from '../../drizzle/schema';
import type { Channel } from '../../workflows/definitions';
import type { Executor } from './index';

export type Preferences = typeof userPreferences.$inferSelect;
export type TypeSettings = typeof typeSettings.$inferSelect;

export async function findPreferences(db: Executor, userId: string): Promise<Preferences | undefined> {
  const [row] = await db.select().from(userPreferences).where(eq(userPreferences.userId, userId));
  return row;
}

export async function savePreferences(
  db: Executor,
  userId: string,
  prefs: Pick<Preferences, 'timeZone' | 'quietHours' | 'optedOutCategories' | 'locale'>,
): Promise<Preferences> {
  const [row] = await db
    .insert(userPreferences)
    .values({ userId, ...prefs })
    .onConflictDoUpdate({ target: userPreferences.userId, set: { ...prefs, updatedAt: sql`now()` } })
    .returning();
  return row;
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
export type TypeSettingsChange = Partial<Pick<TypeSettings, 'activeWindowMinutes' | 'replaceWindowMinutes' | 'deliveryEnabled'>>;

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

export async function quietHoursPolicy(db: Executor, category: string): Promise<QuietHoursPolicy> {
  const [row] = await db.select().from(categorySettings).where(eq(categorySettings.category, category));
  return row?.quietHours ?? 'defer';
}

export async function saveCategorySettings(db: Executor, category: string, quietHours: QuietHoursPolicy) {
  const [row] = await db
    .insert(categorySettings)
    .values({ category, quietHours })
    .onConflictDoUpdate({ target: categorySettings.category, set: { quietHours, updatedAt: sql`now()` } })
    .returning();
  return row;
}

const DELIVERY_SWITCH = 'delivery_enabled';

/**
 * What the due-time checks read, in one query: whether the notification was replaced, the recipient's
 * preferences, its type's settings and the global delivery switch. Undefined if the notification is unknown.
 */
export async function dueTimeContext(db: Executor, ids: { notificationId: string; userId: string; type: string }) {
  const [row] = await db
    .select({ replacedBy: notifications.replacedBy, prefs: userPreferences, typeSettings, deliverySwitch: settings.value })
    .from(notifications)
    .leftJoin(userPreferences, eq(userPreferences.userId, ids.userId))
    .leftJoin(typeSettings, eq(typeSettings.type, ids.type))
    .leftJoin(settings, eq(settings.key, DELIVERY_SWITCH))
    .where(eq(notifications.id, ids.notificationId));
  return row && { ...row, deliveryEnabled: row.deliverySwitch !== false };
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

/**
 * The recipient's buckets for these channels, locked until the surrounding transaction ends, in one
 * statement. A missing bucket is created full; an existing one is "updated" to itself, which locks
 * it as FOR UPDATE would, so two concurrent first checks never both see an imaginary full bucket.
 * Channels are locked in one order, so two checks of the same recipient cannot deadlock.
 */
export async function lockBuckets(db: Executor, userId: string, channels: Channel[], full: { tokens: number; at: Date }) {
  return db
    .insert(throttleBuckets)
    .values([...channels].sort().map((channel) => ({ userId, channel, tokens: full.tokens, updatedAt: full.at })))
    .onConflictDoUpdate({ target: [throttleBuckets.userId, throttleBuckets.channel], set: { tokens: sql`${throttleBuckets.tokens}` } })
    .returning();
}

export async function saveBucket(db: Executor, userId: string, channel: Channel, tokens: number, at: Date) {
  await db
    .insert(throttleBuckets)
    .values({ userId, channel, tokens, updatedAt: at })
    .onConflictDoUpdate({ target: [throttleBuckets.userId, throttleBuckets.channel], set: { tokens, updatedAt: at } });
}
