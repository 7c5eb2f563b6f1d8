import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { apiKeys, type ApiKeyScope } from '../../drizzle/schema';
import type { Executor } from './index';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** SHA-256 of a key: what is stored and compared. Keys are 256 random bits, so no slow hash is needed. */
export const keyDigest = (key: string): Buffer => createHash('sha256').update(key).digest();

/**
 * Names an API key in logs, audit records and listings without revealing it: the first 12 hex digits
 * of its SHA-256, which `printf %s "$KEY" | sha256sum` shows too.
 */
export const apiKeyId = (digest: Buffer) => `key:${digest.toString('hex').slice(0, 12)}`;

const KEY_PREFIX = 'hrl_';
/** How much of a key listings show. */
const SHOWN = KEY_PREFIX.length + 6;

/** A new key and its id; the key itself goes to the caller once and is never stored. */
export function mintApiKey() {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const digest = keyDigest(key);
  return { key, digest, id: apiKeyId(digest) };
}

export async function saveApiKey(
  db: Executor,
  { key, digest, id }: ReturnType<typeof mintApiKey>,
  { scope, name, createdBy }: { scope: ApiKeyScope; name: string; createdBy: string },
): Promise<ApiKeyRow> {
  const [row] = await db
    .insert(apiKeys)
    .values({ id, digest: digest.toString('hex'), prefix: key.slice(0, SHOWN), scope, name, createdBy })
    .returning();
  return row;
}

/** The key with this digest, unless it was revoked. */
export async function findActiveApiKey(db: Executor, digest: Buffer): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.digest, digest.toString('hex')), isNull(apiKeys.revokedAt)));
  return row;
}

export async function listApiKeys(db: Executor): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
}

/** Revokes the key; undefined if there is none with this id. Revoking twice keeps the first time. */
export async function revokeApiKey(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const [revoked] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  if (revoked) return revoked;
  const [existing] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return existing;
}
