import type { Change } from '../../workflows/definitions';
import { apiError } from '../api/errors';
import type { Database } from '../db';
import { findNotification } from '../db/notifications';
import type { ControlOutcome, TemporalGateway } from '../temporal/gateway';

export interface ControlDeps {
  db: Database;
  temporal: TemporalGateway;
}

async function existing(db: Database, id: string) {
  const row = await findNotification(db, id);
  if (!row) throw apiError(404, 'notification_not_found', `no notification with id ${id}`);
  return row;
}

/** Turns a refused cancel/change into the 409 the client sees, naming when sending began. */
async function refuse(db: Database, id: string, outcome: ControlOutcome & { done: false }): Promise<never> {
  if (outcome.invalid) throw apiError(400, 'invalid_change', outcome.invalid);
  const row = await existing(db, id);
  const status = outcome.tooLate?.status ?? row.status;
  const sendingStartedAt = outcome.tooLate?.sendingStartedAt ?? row.sendingStartedAt?.toISOString();
  throw apiError(
    409,
    'too_late',
    sendingStartedAt ? `too late: sending began at ${sendingStartedAt}` : `too late: the notification is already ${status}`,
    { status, sendingStartedAt: sendingStartedAt ?? null },
  );
}

/**
 * Cancels a pending notification through a workflow update, so the answer is definitive: when this
 * returns, the workflow has recorded CANCELLED and will never send. Cancelling a cancelled one is a no-op.
 */
export async function cancelNotification({ db, temporal }: ControlDeps, id: string, { note, actor }: { note?: string; actor?: string } = {}): Promise<void> {
  const cancelled = async () => (await existing(db, id)).status === 'CANCELLED';
  if (await cancelled()) return;
  let outcome: ControlOutcome;
  try {
    outcome = await temporal.cancel(id, note, actor);
  } catch (err) {
    // Another cancel may have ended the run while this one was on its way; then this one is done too.
    if (await cancelled()) return;
    throw err;
  }
  if (!outcome.done && !(await cancelled())) await refuse(db, id, outcome);
}

/** Moves the due time and/or swaps the content of a pending notification. */
export async function changeNotification({ db, temporal }: ControlDeps, id: string, change: Change, actor?: string): Promise<void> {
  await existing(db, id);
  const outcome = await temporal.change(id, change, actor);
  if (!outcome.done) await refuse(db, id, outcome);
}
