import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import {
  NotificationStatusKey,
  ScheduledAtKey,
  type Change,
  type NotificationInput,
  type NotificationResult,
  type NotificationStatus,
  type ResumeState,
} from '../definitions';
import { DATABASE_ACTIVITY } from '../activity-options';
import { installHandlers } from './handlers';
import { isPending, type NotificationState } from './state';
import { sendToTargets } from './send';
import { outcomeOf } from '../fan-out';

const activities = proxyActivities<Activities>(DATABASE_ACTIVITY);

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The first version of the notification workflow, frozen: runs started by it before the upgrade
 * replay and finish on this code. New notifications start the current type in `workflows/notification.ts`.
 */
export async function notificationWorkflow(input: NotificationInput): Promise<NotificationResult> {
  const { resume } = input;
  const s: NotificationState = {
    status: resume?.status ?? 'SCHEDULED',
    reason: resume?.reason,
    deferReason: resume?.deferReason,
    seq: resume?.seq ?? 1,
    recordedSeq: resume?.seq ?? 1,
    dueAt: Date.parse(resume?.dueAt ?? input.scheduledAt),
    scheduledAt: input.scheduledAt,
    content: input.content,
    changeVersion: 0,
    recordedChangeVersion: 0,
    wake: 0,
    recheckRequested: false,
    targets: [],
  };
  installHandlers(input, s);

  async function transition(to: NotificationStatus, reason?: string, details?: Record<string, unknown>, changes?: Change) {
    const from = s.status;
    // Set before awaiting: a cancel arriving while this is recorded must already see the new status.
    const seq = s.seq + 1;
    Object.assign(s, { status: to, reason, seq });
    upsertSearchAttributes([
      { key: NotificationStatusKey, value: to },
      ...(changes?.scheduledAt ? [{ key: ScheduledAtKey, value: new Date(changes.scheduledAt) }] : []),
    ]);
    await activities.recordTransition({
      notificationId: input.notificationId,
      seq,
      from,
      to,
      reason,
      details,
      changes,
      replacedBy: to === 'CANCELLED' ? s.cancel?.replacedBy : undefined,
      at: iso(Date.now()),
    });
    s.recordedSeq = Math.max(s.recordedSeq, seq);
  }

  const finish = async (): Promise<NotificationResult> => {
    await condition(allHandlersFinished);
    return { status: s.status, reason: s.reason, targets: s.targets };
  };
  const cancelled = async () => {
    const { reason, replacedBy, note } = s.cancel!;
    await transition('CANCELLED', reason, { ...(replacedBy ? { replacedBy } : {}), ...(note ? { note } : {}) });
    return finish();
  };

  if (!resume) await activities.recordAccepted(input, iso(Date.now()));
  try {
    for (;;) {
      // A notification held for days (delivery switched off) must not outgrow its history: carry on in a new run.
      if (workflowInfo().continueAsNewSuggested && !s.unrecorded && !s.cancel && allHandlersFinished()) {
        const carried: ResumeState = { seq: s.seq, status: s.status as ResumeState['status'], reason: s.reason, deferReason: s.deferReason, dueAt: iso(s.dueAt) };
        return await continueAsNew<typeof notificationWorkflow>({ ...input, content: s.content, scheduledAt: s.scheduledAt, resume: carried });
      }
      const seen = s.wake;
      // A durable timer that a handler can cut short: survives restarts, costs nothing while it waits.
      // `unrecorded` too: a change accepted before this line (during recordAccepted or the checks) bumped `wake` already.
      const woken = await condition(
        () => s.cancel !== undefined || s.unrecorded !== undefined || s.wake !== seen,
        Math.max(1, s.dueAt - Date.now()),
      );
      if (s.cancel) return await cancelled();
      if (s.unrecorded) {
        const change = s.unrecorded;
        const version = s.changeVersion;
        s.unrecorded = undefined;
        await transition('SCHEDULED', change.content ? 'replaced_content' : 'rescheduled', { ...change }, change);
        s.recordedChangeVersion = version;
        continue;
      }
      if (woken) continue;

      s.recheckRequested = false;
      const verdict = await activities.evaluateDueChecks({
        notificationId: input.notificationId,
        userId: input.userId,
        type: input.type,
        category: input.category,
        channels: input.channels,
        expiresAt: input.expiresAt,
      });
      // A cancel or change accepted while the checks ran wins over their verdict.
      if (s.cancel || s.unrecorded) continue;
      if (verdict.action === 'send') break;
      if (verdict.action === 'expire') {
        await transition('EXPIRED', 'expired', { expiresAt: input.expiresAt });
        return await finish();
      }
      if (verdict.action === 'cancel') {
        s.cancel = { reason: verdict.reason, replacedBy: verdict.replacedBy };
        return await cancelled();
      }
      // A recheck asked for while the checks ran means: look again now, not at the end of the deferral.
      s.dueAt = s.recheckRequested ? Date.now() : Date.parse(verdict.until);
      if (s.status !== 'DEFERRED' || s.deferReason !== verdict.reason) {
        s.deferReason = verdict.reason;
        await transition('DEFERRED', verdict.reason, { until: verdict.until });
      }
    }
  } catch (err) {
    // `temporal workflow cancel` (not the cancel signal): record it, then let the run end as cancelled.
    if (isCancellation(err) && isPending(s)) {
      s.cancel = { reason: 'requested', note: 'workflow cancellation' };
      await CancellationScope.nonCancellable(() => transition('CANCELLED', 'requested', { via: 'workflow_cancel' }));
    }
    throw err;
  }

  // Once sending began it is too late to cancel: a `temporal workflow cancel` now must not leave Postgres
  // at SENDING, so the sends and their outcome are recorded whatever happens.
  await CancellationScope.nonCancellable(async () => {
    s.sendingStartedAt = iso(Date.now());
    await transition('SENDING');
    log.info('sending', { notificationId: input.notificationId });
    const results = await sendToTargets({ ...input, content: s.content }, (r) => s.targets.push(r));
    const outcome = outcomeOf(results);
    await transition(outcome.to, outcome.reason, outcome.details);
  });
  return finish();
}
