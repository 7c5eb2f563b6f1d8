import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DueDelivery } from '../activities';
import { DATABASE_LOCAL_ACTIVITY, DUE_DELIVERY_ACTIVITY, DUE_DELIVERY_LOCAL_ACTIVITY } from './activity-options';
import {
  channelTaskQueue,
  NotificationStatusKey,
  type Channel,
  ScheduledAtKey,
  type Change,
  type NotificationInput,
  type NotificationResult,
  type NotificationStatus,
  type ResumeState,
} from './definitions';
import { outcomeOf, sendPlanned } from './fan-out';
import { installHandlers } from './handlers';
import { isPending, statusView, tooLate, type Command, type RunState } from './state';
import { liveDetails, waitSummary } from './summaries';

const local = proxyLocalActivities<Activities>(DATABASE_LOCAL_ACTIVITY);
const dueTimeOn = (taskQueue?: string) => proxyActivities<Activities>({ ...DUE_DELIVERY_ACTIVITY, ...(taskQueue ? { taskQueue } : {}) });
const dueTimeLocal = proxyLocalActivities<Activities>(DUE_DELIVERY_LOCAL_ACTIVITY);

const iso = (ms: number) => new Date(ms).toISOString();
const nonCancellable = <T>(fn: () => Promise<T>) => CancellationScope.nonCancellable(fn);

/**
 * What sets the workflow types that run this code apart. Each type fixes its shape for good, so a run
 * replays with the commands it was recorded with (docs/upgrades.md).
 */
interface Shape {
  /** Write SENDING to the NotificationStatus search attribute: one more visibility write on the server. */
  mirrorSending: boolean;
  /**
   * Decide at the due time in one ordinary activity that also makes a single target's first attempt
   * (`deliverAtDueTime`), instead of a local activity followed by a send activity.
   */
  sendWithDecision: boolean;
  /**
   * Every send, the due-time activity's first attempt included, runs on its channel's own task
   * queue (`channelTaskQueue`) instead of the workflow's: a hanging provider holds only its own
   * channel's worker slots.
   */
  channelQueues: boolean;
  /**
   * Wait only for a due time still ahead. The API may start a run with a start delay that ends at
   * the due time (START_DELAY_FROM=0s), so its first workflow task comes when it is due: no timer.
   * Older types wait at least 1 ms even when the due time has passed, a timer their histories hold.
   */
  waitsOnlyAhead: boolean;
  /**
   * The due-time activity (`deliverAtDueTime`) is a local activity, run inside the wake-up's workflow
   * task: a single target delivered at its first attempt closes the run in that same task. Older
   * types schedule it on a task queue, and a second workflow task closes the run after it.
   */
  dueTimeLocal: boolean;
}

/**
 * One notification, from its due time to a terminal state. The API has already recorded it as
 * SCHEDULED(accepted). Due further ahead than START_DELAY_FROM, the run starts with a start delay
 * that ends that long before its due time; then (or at once when due sooner, or woken early by an
 * update) it sleeps on a timer. At the due time one local activity, inside the workflow task of the
 * wake-up, decides and, for a notification with a single target, makes the first attempt and
 * records DELIVERED with it: the run closes in that same workflow task. Several targets, a failed
 * first attempt, or a channel whose first attempts are already busy in this worker go on with one
 * send activity per target on the channel's own task queue, under its retry policy; an outcome the
 * send did not record is written by one local activity. The NotificationStatus search attribute
 * follows every recorded status except the short-lived SENDING.
 */
export async function notificationWorkflowV7(input: NotificationInput): Promise<NotificationResult> {
  return runNotification(input, { mirrorSending: false, sendWithDecision: true, channelQueues: true, waitsOnlyAhead: true, dueTimeLocal: true });
}

/** Runs started before V7: the due-time activity runs on the channel's task queue, and a second workflow task closes the run. */
export async function notificationWorkflowV6(input: NotificationInput): Promise<NotificationResult> {
  return runNotification(input, { mirrorSending: false, sendWithDecision: true, channelQueues: true, waitsOnlyAhead: true, dueTimeLocal: false });
}

/** Runs started before V6, without a start delay: they wait at least 1 ms, also when already due. */
export async function notificationWorkflowV5(input: NotificationInput): Promise<NotificationResult> {
  return runNotification(input, { mirrorSending: false, sendWithDecision: true, channelQueues: true, waitsOnlyAhead: false, dueTimeLocal: false });
}

/** Runs started before V5: the same, but every send runs on the workflow's own task queue. */
export async function notificationWorkflowV4(input: NotificationInput): Promise<NotificationResult> {
  return runNotification(input, { mirrorSending: false, sendWithDecision: true, channelQueues: false, waitsOnlyAhead: false, dueTimeLocal: false });
}

/** Runs started before V4: the due-time decision is a local activity, and every send an activity of its own. */
export async function notificationWorkflowV3(input: NotificationInput): Promise<NotificationResult> {
  return runNotification(input, { mirrorSending: false, sendWithDecision: false, channelQueues: false, waitsOnlyAhead: false, dueTimeLocal: false });
}

/** Runs started before V3, identical to V3 but for SENDING, which they also write to NotificationStatus. */
export async function notificationWorkflowV2(input: NotificationInput): Promise<NotificationResult> {
  return runNotification(input, { mirrorSending: true, sendWithDecision: false, channelQueues: false, waitsOnlyAhead: false, dueTimeLocal: false });
}

async function runNotification(input: NotificationInput, shape: Shape): Promise<NotificationResult> {
  const { resume } = input;
  const s: RunState = {
    status: resume?.status ?? 'SCHEDULED',
    reason: resume?.reason ?? 'accepted',
    deferReason: resume?.deferReason,
    seq: resume?.seq ?? 1,
    dueAt: Date.parse(resume?.dueAt ?? input.scheduledAt),
    scheduledAt: input.scheduledAt,
    content: input.content,
    targets: [],
    inbox: [],
    cancelling: false,
  };
  installHandlers(input, s);
  const taskQueueFor = shape.channelQueues ? (channel: Channel) => channelTaskQueue(workflowInfo().taskQueue, channel) : undefined;
  /** The Temporal UI's "current details": where the notification stands (no history event; read by the UI's query). */
  const explain = () => setCurrentDetails(liveDetails(statusView(input, s)));

  /** Adopts a recorded status; the search attributes follow when the status or the due time changes (one upsert). */
  function adopt(to: NotificationStatus, reason: string | undefined, scheduledAt?: string) {
    const mirrorStatus = to !== s.status && (to !== 'SENDING' || shape.mirrorSending);
    Object.assign(s, { status: to, reason });
    explain();
    if (!mirrorStatus && !scheduledAt) return;
    upsertSearchAttributes([
      ...(mirrorStatus ? [{ key: NotificationStatusKey, value: to }] : []),
      ...(scheduledAt ? [{ key: ScheduledAtKey, value: new Date(scheduledAt) }] : []),
    ]);
  }

  /** Writes a transition to Postgres (never interrupted halfway), then adopts it. */
  function record(to: NotificationStatus, reason?: string, details?: Record<string, unknown>, changes?: Change & { replacedBy?: string }, actor?: string) {
    return nonCancellable(async () => {
      const { replacedBy, ...change } = changes ?? {};
      await local.recordTransition({
        ...(actor ? { actor } : {}),
        notificationId: input.notificationId,
        seq: s.seq + 1,
        from: s.status,
        to,
        reason,
        details,
        changes: change,
        replacedBy,
        at: iso(Date.now()),
      });
      s.seq += 1;
      adopt(to, reason, change.scheduledAt);
    });
  }

  /** Answers every command still queued: a cancel is done if the notification ended CANCELLED; the rest came too late. */
  function replyToQueued() {
    for (const command of s.inbox.splice(0)) reply(command, command.kind === 'cancel' && s.status === 'CANCELLED' ? undefined : tooLate(s));
  }
  function reply(command: Command, failure?: ReturnType<typeof tooLate>) {
    if (command.reply) Object.assign(command.reply, { settled: true, failure });
  }

  /** The one way out of a run once its terminal state is recorded, whatever led there. */
  function finish(): Promise<NotificationResult> {
    return nonCancellable(async () => {
      replyToQueued();
      await condition(allHandlersFinished);
      return { status: s.status, reason: s.reason, targets: s.targets };
    });
  }

  async function applyChange(change: Change, actor?: string) {
    const scheduledAt = change.scheduledAt ? iso(Date.parse(change.scheduledAt)) : undefined;
    // A content-only change leaves a deferred notification deferred, for the same reason.
    const keepsDeferral = !scheduledAt && s.status === 'DEFERRED';
    const reason = keepsDeferral ? s.deferReason : change.content ? 'replaced_content' : 'rescheduled';
    const details = { ...change, ...(keepsDeferral ? { change: 'replaced_content' } : {}), ...(scheduledAt ? { scheduledAt } : {}) };
    await record(keepsDeferral ? 'DEFERRED' : 'SCHEDULED', reason, details, { ...change, ...(scheduledAt ? { scheduledAt } : {}) }, actor);
    if (change.content) s.content = change.content;
    if (scheduledAt) Object.assign(s, { scheduledAt, dueAt: Date.parse(scheduledAt), deferReason: undefined });
  }

  /** Carries out queued commands in arrival order; true once the notification has ended. */
  async function drainInbox(): Promise<boolean> {
    // Stop at the end without taking the next command: what is left is answered by finish().
    while (isPending(s) && s.inbox.length > 0) {
      const command = s.inbox.shift()!;
      if (command.kind === 'cancel') {
        s.replacedBy = command.replacedBy;
        const details = { ...(command.replacedBy ? { replacedBy: command.replacedBy } : {}), ...(command.note ? { note: command.note } : {}) };
        await record('CANCELLED', command.reason, details, { replacedBy: command.replacedBy }, command.actor);
      } else if (command.kind === 'change') {
        await applyChange(command.change, command.actor);
      } else if (s.status === 'DEFERRED') {
        s.dueAt = Date.now();
      }
      reply(command);
    }
    return !isPending(s);
  }

  /** Takes on what the due-time decision recorded; returns it when sending begins. */
  function adoptDecision(decision: DueDelivery) {
    if (decision.recorded) s.seq += 1;
    switch (decision.action) {
      case 'send':
        s.sendingStartedAt = decision.at;
        adopt('SENDING', undefined);
        replyToQueued();
        return decision;
      case 'defer':
        s.dueAt = Date.parse(decision.until);
        s.deferReason = decision.reason;
        adopt('DEFERRED', decision.reason);
        return undefined;
      case 'expire':
        adopt('EXPIRED', 'expired');
        return undefined;
      case 'cancel':
        s.replacedBy = decision.replacedBy;
        adopt('CANCELLED', decision.reason);
        return undefined;
    }
  }

  let sending: Extract<DueDelivery, { action: 'send' }> | undefined;
  try {
    while (!sending) {
      if (s.inbox.length > 0) {
        if (await drainInbox()) return await finish();
        continue;
      }
      // A notification held for days (delivery switched off) must not outgrow its history: carry on in a new run.
      if (workflowInfo().continueAsNewSuggested && allHandlersFinished()) {
        const carried: ResumeState = { seq: s.seq, status: s.status as ResumeState['status'], reason: s.reason, deferReason: s.deferReason, dueAt: iso(s.dueAt) };
        // The next run keeps this run's workflow type, and so its shape.
        return await continueAsNew<typeof notificationWorkflowV7>({ ...input, content: s.content, scheduledAt: s.scheduledAt, resume: carried });
      }
      // A durable timer that a queued command cuts short: survives restarts, costs nothing while it waits.
      // Its summary says in the UI what it waits for; the metadata is not part of what a replay compares.
      explain();
      const untilDue = s.dueAt - Date.now();
      if (untilDue > 0 || !shape.waitsOnlyAhead) {
        if (await condition(() => s.inbox.length > 0, Math.max(1, untilDue), { summary: waitSummary(statusView(input, s)) })) continue;
      }

      const due = {
        notificationId: input.notificationId,
        userId: input.userId,
        type: input.type,
        category: input.category,
        channels: input.channels,
        expiresAt: input.expiresAt,
        seq: s.seq + 1,
        status: s.status as 'SCHEDULED' | 'DEFERRED',
        deferReason: s.deferReason,
      };
      const delivery = { ...due, content: s.content, metadata: input.metadata, ...(input.attemptOffset ? { attemptOffset: input.attemptOffset } : {}) };
      // Only a notification on one channel can have its first attempt made on a task queue: that channel's.
      const onTaskQueue = () => dueTimeOn(input.channels.length === 1 ? taskQueueFor?.(input.channels[0]) : undefined).deliverAtDueTime(delivery);
      const decision = await nonCancellable(async () => {
        if (!shape.sendWithDecision) return local.decideAtDueTime(due);
        if (!shape.dueTimeLocal) return onTaskQueue();
        // Inside this workflow task when the channel has a send to spare; else on its queue, still cancellable until its turn.
        const inline = await dueTimeLocal.deliverInlineAtDueTime(delivery);
        return inline.action === 'queue' ? onTaskQueue() : inline;
      });
      sending = adoptDecision(decision);
      if (!sending && !isPending(s)) return await finish();
    }
  } catch (err) {
    // `temporal workflow cancel` while pending: record it, answer waiting callers, and end as cancelled.
    if (isCancellation(err) && isPending(s)) {
      await record('CANCELLED', 'requested', { via: 'workflow_cancel' });
      await finish();
    }
    throw err;
  }

  // Sending has begun: a `temporal workflow cancel` from here on is too late, and everything up to
  // the recorded outcome runs to its end.
  const plan = sending.plan;
  return nonCancellable(async () => {
    const deliveredSeq = s.seq + 1;
    const onResult = (r: (typeof s.targets)[number]) => {
      s.targets.push(r);
      explain();
    };
    const { results, recorded, unrecorded } = await sendPlanned({ ...input, content: s.content }, plan, { onResult, deliveredSeq, firstAttempt: sending.firstAttempt, taskQueueFor });
    // Only after a database outage during the sends (never in a history recorded before this step existed).
    if (unrecorded.length > 0) await local.recordLateAttempts(unrecorded);
    const outcome = outcomeOf(results);
    if (recorded) {
      s.seq = deliveredSeq;
      adopt(outcome.to, outcome.reason);
    } else await record(outcome.to, outcome.reason, outcome.details);
    return finish();
  });
}
