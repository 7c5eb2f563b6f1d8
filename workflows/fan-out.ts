// Fan-out of one notification to its channel targets: one activity per (notification, channel, target).
import { ActivityCancellationType, ActivityFailure, ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities, DeliveryPlan, FirstAttempt, PlannedTarget, SendFailureDetails, SendInput, SendOutput, UnrecordedAttempt } from '../activities';
import type { RetrySettings } from '../src/config';
import type { Channel, Content, NotificationInput, TargetResult } from './definitions';
import { backoffAfter, SEND_BACKOFF_COEFFICIENT, SEND_HEARTBEAT_TIMEOUT_MS } from './activity-options';
import { sendInputFor } from './send-input';

/** The send activity of each channel (the worker registers each on its channel's task queue). */
export const SEND_ACTIVITY = {
  webhook: 'sendWebhook',
  fcm: 'sendFcm',
  webpush: 'sendWebPush',
  telegram: 'sendTelegram',
  email: 'sendEmail',
  sms: 'sendSms',
  kakao: 'sendKakao',
} as const satisfies Record<Channel, keyof Activities>;

/** Each channel gets its own retry policy; the worker's configuration supplies it through the plan. */
function sender(channel: Channel, policy: RetrySettings, taskQueue?: string): (input: SendInput) => Promise<SendOutput> {
  const activities = proxyActivities<Activities>({
    ...(taskQueue ? { taskQueue } : {}),
    startToCloseTimeout: policy.attemptTimeoutMs,
    heartbeatTimeout: SEND_HEARTBEAT_TIMEOUT_MS,
    scheduleToCloseTimeout: policy.totalTimeoutMs,
    // Once a provider call is under way its outcome matters (it may have been accepted): wait for it.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: policy.initialIntervalMs,
      maximumInterval: policy.maximumIntervalMs,
      maximumAttempts: policy.maximumAttempts,
      backoffCoefficient: SEND_BACKOFF_COEFFICIENT,
    },
  });
  return activities[SEND_ACTIVITY[channel]];
}

/** The attempt-log row a failed send could not write, if it handed one back. */
function unwrittenRowOf(err: unknown): UnrecordedAttempt | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.details?.[0] as SendFailureDetails | undefined)?.unrecorded : undefined;
}

function failureOf(err: unknown): { errorType: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { errorType: cause.type ?? 'error', message: cause.message };
  if (cause instanceof Error) return { errorType: cause.name, message: cause.message };
  return { errorType: 'error', message: String(cause) };
}

/**
 * What is left of a channel's retry policy once its first attempt was made by the due-time activity:
 * one attempt fewer, the backoff carrying on from the second interval, the budget less the time spent.
 * Undefined when nothing is left.
 */
export function policyAfterFirstAttempt(policy: RetrySettings, first: Extract<FirstAttempt, { outcome: 'failed' }>, now: number) {
  if (!first.retryable || policy.maximumAttempts <= 1) return undefined;
  const delayMs = first.nextRetryDelayMs ?? policy.initialIntervalMs;
  const budgetLeftMs = policy.totalTimeoutMs - (now - Date.parse(first.startedAt)) - delayMs;
  if (budgetLeftMs <= 0) return undefined;
  return {
    delayMs,
    policy: {
      ...policy,
      maximumAttempts: policy.maximumAttempts - 1,
      initialIntervalMs: backoffAfter(policy, 2),
      totalTimeoutMs: budgetLeftMs,
    },
  };
}

export interface SendOptions {
  /** Sees each result as it lands, so the status query can show progress. */
  onResult: (result: TargetResult) => void;
  /**
   * A notification with a single target has its send activity record DELIVERED under this number
   * (`recorded` says it did), which saves the workflow a database step.
   */
  deliveredSeq?: number;
  /** The due-time activity has already made the single target's first attempt: only what its retry policy leaves is sent from here. */
  firstAttempt?: FirstAttempt;
  /** The task queue of each channel's sends; unset, they run on the workflow's own. */
  taskQueueFor?: (channel: Channel) => string;
}

/**
 * Sends to the planned targets, following the notification's routing: `all` fans out at once;
 * `fallback` tries channels in the given order and stops at the first one that delivers.
 */
export async function sendPlanned(
  input: NotificationInput & { content: Content },
  plan: DeliveryPlan,
  { onResult, deliveredSeq, firstAttempt, taskQueueFor }: SendOptions,
): Promise<{ results: TargetResult[]; recorded: boolean; unrecorded: UnrecordedAttempt[] }> {
  plan.unavailable.forEach(onResult);
  const results: TargetResult[] = [...plan.unavailable];
  const single = plan.targets.length === 1 && plan.unavailable.length === 0;
  const recordDeliveredAs = single ? deliveredSeq : undefined;
  let recorded = false;
  // Attempt-log rows the sends could not write (Postgres was down): the workflow writes them.
  const unrecorded: UnrecordedAttempt[] = [];
  const keep = (row: UnrecordedAttempt | undefined) => row && unrecorded.push(row);

  const land = (result: TargetResult) => {
    onResult(result);
    results.push(result);
    return result;
  };
  const about = (t: PlannedTarget) => ({ channel: t.channel, targetId: t.targetId, target: t.target });

  /** Sends to one target under `policy`; `attemptsBefore` attempts of this run were made elsewhere. */
  async function attempt(t: PlannedTarget, policy: RetrySettings, attemptsBefore = 0): Promise<TargetResult> {
    const offset = (input.attemptOffset ?? 0) + attemptsBefore;
    try {
      const out = await sender(t.channel, policy, taskQueueFor?.(t.channel))(sendInputFor(input, t.targetId, { recordDeliveredAs, attemptOffset: offset }));
      if (out.recorded) recorded = true;
      keep(out.unrecorded);
      return { ...about(t), outcome: out.outcome, errorType: out.reason };
    } catch (err) {
      keep(unwrittenRowOf(err));
      return { ...about(t), outcome: 'failed', ...failureOf(err) };
    }
  }

  async function afterFirstAttempt(t: PlannedTarget, first: FirstAttempt): Promise<TargetResult> {
    if (first.outcome !== 'skipped') keep(first.unrecorded);
    if (first.outcome === 'delivered') {
      if (first.recorded) recorded = true;
      return { ...about(t), outcome: 'delivered' };
    }
    if (first.outcome === 'skipped') return { ...about(t), outcome: 'skipped', errorType: first.reason };
    const rest = policyAfterFirstAttempt(plan.retry[t.channel]!, first, Date.now());
    if (!rest) return { ...about(t), outcome: 'failed', errorType: first.errorType, message: first.message };
    await sleep(rest.delayMs);
    return attempt(t, rest.policy, 1);
  }

  const sendAll = async (targets: PlannedTarget[]) =>
    (await Promise.all(targets.map((t) => attempt(t, plan.retry[t.channel]!)))).map(land);

  if (firstAttempt && single) {
    land(await afterFirstAttempt(plan.targets[0], firstAttempt));
  } else if (input.routing === 'all') {
    await sendAll(plan.targets);
  } else {
    for (const channel of input.channels) {
      const batch = await sendAll(plan.targets.filter((t) => t.channel === channel));
      if (batch.some((r) => r.outcome === 'delivered')) break;
    }
  }
  return { results, recorded, unrecorded };
}

/** DELIVERED when any target took it, FAILED otherwise, with the reason an operator needs. */
export function outcomeOf(results: TargetResult[]) {
  const delivered = results.filter((r) => r.outcome === 'delivered').length;
  if (delivered > 0) return { to: 'DELIVERED' as const, reason: undefined, details: { delivered, targets: results.length } };
  const reason = results.some((r) => r.outcome === 'failed') ? 'all_targets_failed' : 'no_deliverable_target';
  return { to: 'FAILED' as const, reason, details: { targets: results } };
}
