import { ApplicationFailure } from '@temporalio/activity';
import ms from 'ms';
import type { Content, DeferReason, DueVerdict, Metadata } from '../workflows/definitions';
import { sendInputFor } from '../workflows/send-input';
import type { Executor } from '../src/db';
import { applyTransition, findTransition, type TransitionRecord } from '../src/db/notifications';
import type { TargetRow } from '../src/db/targets';
import { throttleEnabled } from '../src/policy/throttle';
import type { RetrySettings } from '../src/config';
import type { DeliveryReporter } from '../src/reports';
import { createDueChecks, type CheckDeps, type DueCheckInput } from './checks';
import { whileHeartbeating } from './heartbeat';
import { UNLIMITED_SEND_PERMITS } from './send-permits';
import { configuredChannels, createSender, planFromRows, type DeliveryDeps, type DeliveryPlan, type SendFailureDetails } from './delivery';
import { recordLateAttempts, skippedChannelRows, type UnrecordedAttempt } from '../src/db/attempts';

export interface DueTimeInput extends DueCheckInput {
  /** The sequence number this decision is recorded under (the workflow's last recorded one + 1). */
  seq: number;
  /** Where the notification stands now: a repeated deferral for the same reason records nothing. */
  status: 'SCHEDULED' | 'DEFERRED';
  deferReason?: DeferReason;
}

/** The verdict, already written to Postgres when `recorded`; `send` carries the delivery plan. */
export type DueTimeDecision = (
  | { action: 'send'; plan: DeliveryPlan }
  | Exclude<DueVerdict, { action: 'send' }>
) & { recorded: boolean; at: string };

/** The due-time decision made by `deliverAtDueTime`, with the first attempt when it made one. */
export type DueDelivery = DueTimeDecision & { firstAttempt?: FirstAttempt };

/** The outcome of the single target's first attempt, made inside `deliverAtDueTime`. */
export type FirstAttempt =
  | { outcome: 'delivered'; providerMessageId?: string; recorded: boolean; unrecorded?: UnrecordedAttempt }
  | { outcome: 'skipped'; reason?: string }
  | { outcome: 'failed'; errorType: string; message: string; retryable: boolean; nextRetryDelayMs?: number; startedAt: string; unrecorded?: UnrecordedAttempt };

export interface DueDeliveryInput extends DueTimeInput {
  content: Content;
  metadata?: Metadata;
  attemptOffset?: number;
}

/**
 * The longest attempt `deliverAtDueTime` makes itself. A channel whose attempt timeout is longer is
 * sent by a send activity of its own; the activity's start-to-close timeout must hold one attempt
 * plus its database work (`DUE_DELIVERY_ACTIVITY`).
 */
export const INLINE_ATTEMPT_LIMIT_MS = 60_000;

export interface DueTimeDeps extends CheckDeps, DeliveryDeps {
  reporter: DeliveryReporter;
}

/**
 * The due time: runs the checks, records the outcome (SENDING, DEFERRED, CANCELLED or EXPIRED) and, for
 * SENDING, spends the throttle tokens and plans the targets: one read, then one write (inside a
 * transaction that holds the recipient's throttle buckets when a throttle applies). Once it says
 * "send", the notification is SENDING in Postgres and nothing can undo that, so a cancel that
 * arrives later is answered "too late" and never wastes a token.
 *
 * `decideAtDueTime` is that decision alone, run as a local activity by the V2 and V3 workflows.
 * `deliverAtDueTime` (V4) is one ordinary activity that decides and, for a notification with a single
 * target, also makes the first attempt and records DELIVERED with it: the same work as the timer and
 * activity of the cheapest sleep-then-send workflow, with no local activity and no second activity.
 * Any other case (several targets, a failed first attempt) leaves the rest to send activities.
 * `deliverInlineAtDueTime` (V7) does the same as a local activity, inside the wake-up's workflow task.
 */
export function createDueTimeActivities(deps: DueTimeDeps) {
  const checks = createDueChecks(deps);
  const send = createSender(deps);
  const { db } = deps;
  const permits = deps.permits ?? UNLIMITED_SEND_PERMITS;

  /** `replayed`: an earlier try of this decision committed it (its answer was lost with a worker or a workflow task). */
  async function decide(input: DueTimeInput): Promise<{ decision: DueTimeDecision; rows: TargetRow[]; replayed: boolean }> {
    const at = checks.now();
    let recordedNow: TransitionRecord | undefined;
    const context = await checks.context(input, configuredChannels(deps, input.channels));
    const firstVerdict = checks.verdictBeforeThrottle(input, context, at);
    const rows = context.targets;
    const plan = planFromRows(deps, input.channels, rows);
    // Tokens are read, checked and spent under a lock; without a throttle the transition is one statement.
    const inTransaction = firstVerdict.action === 'send' && throttleEnabled(deps.policy.throttle);
    const run = <T>(fn: (ex: Executor) => Promise<T>) => (inTransaction ? db.transaction(fn) : fn(db));
    let replayed = false;
    const decision = await run(async (ex): Promise<DueTimeDecision> => {
      const throttled = firstVerdict.action === 'send' ? await checks.throttle(ex, input, at) : undefined;
      const verdict = throttled?.verdict ?? firstVerdict;
      const unchanged = verdict.action === 'defer' && input.status === 'DEFERRED' && input.deferReason === verdict.reason;
      // Tokens are spent with the SENDING transition, and only if it is new.
      if (!unchanged && !(await applyTransition(ex, transitionFor(input, verdict, at), { ifNew: throttled?.spendTokens }))) {
        // An earlier attempt of this activity committed (its result was lost with a worker): answer what it decided.
        replayed = true;
        return replayedDecision(ex, input, plan);
      }
      const decided = { recorded: !unchanged, at: at.toISOString() };
      if (decided.recorded) recordedNow = transitionFor(input, verdict, at);
      return verdict.action === 'send' ? { action: 'send', plan, ...decided } : { ...verdict, ...decided };
    });
    // Reported once committed: a transaction rolled back never reaches the platform.
    if (recordedNow) deps.reporter.transitionRecorded(recordedNow);
    // A channel passed over gets its line in the attempt log, so an operator sees why it stayed silent.
    if (decision.action === 'send' && plan.unavailable.length > 0) {
      await recordLateAttempts(db, skippedChannelRows(input.notificationId, plan.unavailable, decision.at));
      if (recordedNow) for (const skipped of plan.unavailable) deps.metrics.attemptMade(skipped.channel, 'skipped', skipped.errorType);
    }
    // Lateness against the due time the notification was accepted or rescheduled for; a deferred one waited on purpose.
    if (recordedNow?.to === 'SENDING' && input.status === 'SCHEDULED') {
      deps.metrics.sendingBegan([...new Set(plan.targets.map((t) => t.channel))], at.getTime() - context.scheduledAt.getTime());
    }
    return { decision, rows, replayed };
  }

  /** The decision, then a single target's first attempt (see above); `permitHeld` when the caller holds the channel's send permit. */
  async function deliverAtDueTime(input: DueDeliveryInput, permitHeld = false): Promise<DueDelivery> {
    const { decision, rows, replayed } = await decide(input);
    if (decision.action !== 'send') return decision;
    const { plan } = decision;
    const only = plan.targets.length === 1 && plan.unavailable.length === 0 ? rows[0] : undefined;
    const policy = only ? plan.retry[only.channel] : undefined;
    if (!only || !policy || policy.attemptTimeoutMs > INLINE_ATTEMPT_LIMIT_MS) return decision;

    const deliveredSeq = input.seq + 1;
    // A try after one that recorded SENDING and maybe delivered (its answer was lost with a worker): never send twice.
    // Only such a try can find it delivered; a local activity's tries count from 1 again after a lost workflow task.
    if (replayed && (await findTransition(db, input.notificationId, deliveredSeq))?.toStatus === 'DELIVERED') {
      return { ...decision, firstAttempt: { outcome: 'delivered', recorded: true } };
    }
    return { ...decision, firstAttempt: await firstAttempt(input, only, policy, deliveredSeq, permitHeld) };
  }

  /**
   * V7's due time, a local activity inside the wake-up's workflow task. On several channels it
   * decides, and the sends go to their channels' task queues. On one channel it takes a send permit
   * of that channel and does what `deliverAtDueTime` does; with no permit to spare (the channel busy,
   * or rate-capped) it decides nothing and answers `queue`: the workflow then runs `deliverAtDueTime`
   * on the channel's task queue, where the notification stays cancellable until its turn comes.
   */
  async function deliverInlineAtDueTime(input: DueDeliveryInput): Promise<DueDelivery | { action: 'queue' }> {
    if (input.channels.length !== 1) return (await decide(input)).decision;
    const release = permits.tryInline(input.channels[0]);
    if (!release) return { action: 'queue' };
    try {
      return await deliverAtDueTime(input, true);
    } finally {
      release();
    }
  }

  /** The channel's first attempt at the single target, its failure returned rather than thrown. */
  async function firstAttempt(input: DueDeliveryInput, only: TargetRow, policy: RetrySettings, deliveredSeq: number, permitHeld: boolean): Promise<FirstAttempt> {
    const startedAt = new Date().toISOString();
    const sendInput = sendInputFor(input, only.id, { recordDeliveredAs: deliveredSeq, attemptOffset: input.attemptOffset });
    try {
      // The first attempt of the channel's policy, whichever try of this activity makes it.
      const out = await send(only.channel, sendInput, { target: only, attemptTimeoutMs: policy.attemptTimeoutMs, attempt: 1, permitHeld });
      return out.outcome === 'delivered'
        ? { outcome: 'delivered', providerMessageId: out.providerMessageId, recorded: out.recorded ?? false, ...(out.unrecorded ? { unrecorded: out.unrecorded } : {}) }
        : { outcome: 'skipped', reason: out.reason };
    } catch (err) {
      if (!(err instanceof ApplicationFailure)) throw err;
      const retryable = !err.nonRetryable;
      const delay = err.nextRetryDelay;
      const nextRetryDelayMs = delay == null ? undefined : typeof delay === 'number' ? delay : ms(delay);
      const lateRow = (err.details?.[0] as SendFailureDetails | undefined)?.unrecorded;
      return {
        outcome: 'failed',
        errorType: err.type ?? 'error',
        message: err.message,
        retryable,
        ...(nextRetryDelayMs !== undefined ? { nextRetryDelayMs } : {}),
        startedAt,
        ...(lateRow ? { unrecorded: lateRow } : {}),
      };
    }
  }

  return {
    async decideAtDueTime(input: DueTimeInput): Promise<DueTimeDecision> {
      return (await decide(input)).decision;
    },

    // On one channel's task queue it takes the channel's send permit before deciding: while it waits
    // for one, the notification is still SCHEDULED and can be cancelled.
    deliverAtDueTime: (input: DueDeliveryInput) =>
      whileHeartbeating(async () => {
        if (input.channels.length !== 1) return deliverAtDueTime(input);
        const release = await permits.acquire(input.channels[0]);
        try {
          return await deliverAtDueTime(input, true);
        } finally {
          release();
        }
      }),

    deliverInlineAtDueTime,
  };
}

function transitionFor(input: DueTimeInput, verdict: DueVerdict, at: Date): TransitionRecord {
  const base = { notificationId: input.notificationId, seq: input.seq, from: input.status, at: at.toISOString() };
  switch (verdict.action) {
    case 'send':
      return { ...base, to: 'SENDING' };
    case 'defer':
      return { ...base, to: 'DEFERRED', reason: verdict.reason, details: { until: verdict.until } };
    case 'expire':
      return { ...base, to: 'EXPIRED', reason: 'expired', details: { expiresAt: input.expiresAt } };
    case 'cancel':
      return {
        ...base,
        to: 'CANCELLED',
        reason: verdict.reason,
        details: verdict.replacedBy ? { replacedBy: verdict.replacedBy } : undefined,
        replacedBy: verdict.replacedBy,
      };
  }
}

async function replayedDecision(db: Executor, input: DueTimeInput, plan: DeliveryPlan): Promise<DueTimeDecision> {
  const row = await findTransition(db, input.notificationId, input.seq);
  if (!row) throw new Error(`transition ${input.seq} of ${input.notificationId} vanished`);
  const decided = { recorded: true, at: row.at.toISOString() };
  const details = (row.details ?? {}) as { until?: string; replacedBy?: string };
  switch (row.toStatus) {
    case 'SENDING':
      return { action: 'send', plan, ...decided };
    case 'DEFERRED':
      return { action: 'defer', reason: row.reason as DeferReason, until: details.until!, ...decided };
    case 'EXPIRED':
      return { action: 'expire', ...decided };
    case 'CANCELLED':
      return { action: 'cancel', reason: row.reason as 'replaced', replacedBy: details.replacedBy, ...decided };
    default:
      throw new Error(`transition ${input.seq} of ${input.notificationId} is ${row.toStatus}, not a due-time decision`);
  }
}
