import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { auditLog } from '../../drizzle/schema';
import type { Executor } from './index';

export type AuditAction = 'type.put' | 'type.patch' | 'category.put' | 'channel.put' | 'delivery.switch' | 'template.put' | 'api_key.create' | 'api_key.revoke';

/** Records one settings change; call it in the change's own transaction, so neither lands without the other. */
export async function recordAudit(db: Executor, entry: { actor: string; action: AuditAction; subject: string; change: Record<string, unknown> }) {
  await db.insert(auditLog).values(entry);
}

/** Newest first; `before` is the id of the last entry of the previous page. */
export async function listAudit(db: Executor, { limit, before, subject }: { limit: number; before?: number; subject?: string }) {
  const where: SQL[] = [];
  if (before !== undefined) where.push(lt(auditLog.id, before));
  if (subject !== undefined) where.push(eq(auditLog.subject, subject));
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(limit);
}
