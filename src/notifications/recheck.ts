import type { Database } from '../db';
import { listNotifications, type NotificationFilter } from '../db/listing';
import type { Logger } from '../logger';
import type { TemporalGateway } from '../temporal/gateway';

export interface RecheckDeps {
  db: Database;
  temporal: TemporalGateway;
  log: Logger;
}

/**
 * Asks every DEFERRED notification matching `filter` (and `reason`, when given) to run its checks
 * again now, instead of at the end of its deferral: preferences changed, or a switch went back on.
 */
export async function recheckDeferred({ db, temporal, log }: RecheckDeps, filter: NotificationFilter, reason?: string): Promise<void> {
  for (let cursor: Parameters<typeof listNotifications>[3]; ; ) {
    const { rows, next } = await listNotifications(db, { ...filter, statuses: ['DEFERRED'] }, 200, cursor);
    await Promise.all(
      rows
        .filter((r) => !reason || r.statusReason === reason)
        .map((r) => temporal.recheck(r.id).catch((err) => log.warn({ err, notificationId: r.id }, 'recheck signal failed'))),
    );
    if (!next) return;
    cursor = next;
  }
}
