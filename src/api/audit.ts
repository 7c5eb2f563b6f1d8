import type { Response } from 'express';
import type { Database, Executor } from '../db';
import { recordAudit, type AuditAction } from '../db/audit';
import { requesterOf } from './auth';

/**
 * Makes an operator's change and records who made it, in one transaction: the audit log never
 * misses a change that landed, nor shows one that did not.
 */
export async function audited<T>(db: Database, res: Response, what: { action: AuditAction; subject: string; change: Record<string, unknown> }, apply: (tx: Executor) => Promise<T>) {
  return db.transaction(async (tx) => {
    const result = await apply(tx);
    await recordAudit(tx, { actor: requesterOf(res), ...what });
    return result;
  });
}
