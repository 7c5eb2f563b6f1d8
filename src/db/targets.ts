import { and, eq, getTableColumns, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import { targets } from '../../drizzle/schema';
import type { Channel } from '../../workflows/definitions';
import { newTargetId } from '../ids';
import type { Executor } from './index';

export type TargetRow = typeof targets.$inferSelect;

export interface TargetRegistration {
  userId: string;
  channel: Channel;
  address: string;
  secrets?: Record<string, string>;
  /** When the target exists already, keep its stored secrets instead of replacing them with `secrets`. */
  keepExistingSecrets?: boolean;
  label?: string;
  /** Email: the client confirmed the address; left out, a new target is unverified and an existing one keeps its flag. */
  verified?: boolean;
}

/**
 * Registers a target, or refreshes it when the same user already has that address on that channel.
 * Registering again re-enables a disabled target: the client says it is valid now.
 */
export async function upsertTarget(db: Executor, reg: TargetRegistration): Promise<{ row: TargetRow; created: boolean }> {
  const [row] = await db
    .insert(targets)
    .values({
      id: newTargetId(),
      userId: reg.userId,
      channel: reg.channel,
      address: reg.address,
      secrets: reg.secrets ?? null,
      label: reg.label ?? null,
      verified: reg.verified ?? false,
    })
    .onConflictDoUpdate({
      target: [targets.userId, targets.channel, targets.address],
      set: {
        updatedAt: sql`now()`,
        disabledAt: null,
        disabledReason: null,
        ...(reg.secrets && !reg.keepExistingSecrets ? { secrets: reg.secrets } : {}),
        ...(reg.label !== undefined ? { label: reg.label } : {}),
        ...(reg.verified !== undefined ? { verified: reg.verified } : {}),
      },
    })
    // xmax = 0 only for a freshly inserted row: tells create from update in one round trip.
    .returning({ ...getTableColumns(targets), created: sql<boolean>`(xmax = 0)` });
  const { created, ...target } = row;
  return { row: target, created };
}

export async function activeTargets(db: Executor, userId: string, channels: Channel[]): Promise<TargetRow[]> {
  if (channels.length === 0) return [];
  return db
    .select()
    .from(targets)
    .where(and(eq(targets.userId, userId), inArray(targets.channel, channels), isNull(targets.disabledAt)))
    .orderBy(targets.createdAt, targets.id);
}

export async function findTarget(db: Executor, id: string): Promise<TargetRow | undefined> {
  const [row] = await db.select().from(targets).where(eq(targets.id, id));
  return row;
}

export async function disableTarget(db: Executor, id: string, reason: string): Promise<void> {
  await db
    .update(targets)
    .set({ disabledAt: sql`now()`, disabledReason: reason, updatedAt: sql`now()` })
    .where(and(eq(targets.id, id), isNull(targets.disabledAt)));
}

/** Deletes a user's target named by its id or by its address (token, endpoint, URL, chat id). */
export async function deleteTarget(db: Executor, userId: string, channel: Channel, idOrAddress: string): Promise<boolean> {
  const deleted = await db
    .delete(targets)
    .where(
      and(
        eq(targets.userId, userId),
        eq(targets.channel, channel),
        or(eq(targets.id, idOrAddress), eq(targets.address, idOrAddress)),
      ),
    )
    .returning({ id: targets.id });
  return deleted.length > 0;
}

/** A device token or push subscription belongs to one user at a time: the last one to register it. */
export async function releaseFromOtherUsers(db: Executor, userId: string, channel: Channel, address: string): Promise<void> {
  await db.delete(targets).where(and(eq(targets.channel, channel), eq(targets.address, address), ne(targets.userId, userId)));
}

export async function userTargets(db: Executor, userId: string): Promise<TargetRow[]> {
  return db.select().from(targets).where(eq(targets.userId, userId)).orderBy(targets.channel, targets.createdAt);
}
