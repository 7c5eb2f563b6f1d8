import { condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  NotificationStatusKey,
  statusQuery,
  type NotificationInput,
  type NotificationResult,
  type NotificationStatus,
  type TargetResult,
} from './definitions';
import { sendToTargets } from './send';

// Recording must never be lost: during a Postgres outage keep retrying (capped at one try a minute).
const records = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

const nowIso = () => new Date().toISOString();

/** One notification, from acceptance to a terminal state. */
export async function notificationWorkflow(input: NotificationInput): Promise<NotificationResult> {
  const state = {
    status: 'SCHEDULED' as NotificationStatus,
    reason: undefined as string | undefined,
    seq: 1,
    dueAt: Date.parse(input.scheduledAt),
    sendingStartedAt: undefined as string | undefined,
    targets: [] as TargetResult[],
  };

  setHandler(statusQuery, () => ({
    notificationId: input.notificationId,
    phase: state.status,
    reason: state.reason,
    scheduledAt: input.scheduledAt,
    nextWakeAt: state.status === 'SCHEDULED' ? new Date(state.dueAt).toISOString() : undefined,
    sendingStartedAt: state.sendingStartedAt,
    targets: state.targets,
  }));

  async function transition(to: NotificationStatus, reason?: string, details?: Record<string, unknown>) {
    const from = state.status;
    Object.assign(state, { status: to, reason, seq: state.seq + 1 });
    upsertSearchAttributes([{ key: NotificationStatusKey, value: to }]);
    await records.recordTransition({ notificationId: input.notificationId, seq: state.seq, from, to, reason, details, at: nowIso() });
  }

  await records.recordAccepted(input, nowIso());
  // A durable timer: survives worker and server restarts, and costs nothing while it waits.
  await condition(() => false, Math.max(1, state.dueAt - Date.now()));

  state.sendingStartedAt = nowIso();
  await transition('SENDING');
  const results = await sendToTargets(input, (r) => state.targets.push(r));
  const delivered = results.filter((r) => r.outcome === 'delivered').length;
  if (delivered > 0) await transition('DELIVERED', undefined, { delivered, targets: results.length });
  else await transition('FAILED', results.some((r) => r.outcome === 'failed') ? 'all_targets_failed' : 'no_deliverable_target', { targets: results });
  return { status: state.status, reason: state.reason, targets: results };
}
