// Fan-out of one notification to its channel targets: one activity per (notification, channel, target).
import { ActivityCancellationType, ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, DeliveryPlan, PlannedTarget, SendInput, SendOutput } from '../activities';
import type { RetrySettings } from '../src/config';
import type { Channel, Content, NotificationInput, TargetResult } from './definitions';

const SEND_ACTIVITY = {
  webhook: 'sendWebhook',
  fcm: 'sendFcm',
  webpush: 'sendWebPush',
  telegram: 'sendTelegram',
} as const satisfies Record<Channel, keyof Activities>;

/** Each channel gets its own retry policy; the worker's configuration supplies it through the plan. */
function sender(channel: Channel, policy: RetrySettings): (input: SendInput) => Promise<SendOutput> {
  const activities = proxyActivities<Activities>({
    startToCloseTimeout: policy.attemptTimeoutMs,
    scheduleToCloseTimeout: policy.totalTimeoutMs,
    // Once a provider call is under way its outcome matters (it may have been accepted): wait for it.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: policy.initialIntervalMs,
      maximumInterval: policy.maximumIntervalMs,
      maximumAttempts: policy.maximumAttempts,
      backoffCoefficient: 2,
    },
  });
  return activities[SEND_ACTIVITY[channel]];
}

function failureOf(err: unknown): { errorType: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { errorType: cause.type ?? 'error', message: cause.message };
  if (cause instanceof Error) return { errorType: cause.name, message: cause.message };
  return { errorType: 'error', message: String(cause) };
}

/**
 * Sends to the planned targets, following the notification's routing: `all` fans out at once;
 * `fallback` tries channels in the given order and stops at the first one that delivers.
 * `onResult` sees each result as it lands, so the status query can show progress.
 * With `deliveredSeq`, a notification with a single target has its send activity record DELIVERED
 * under that number (`recorded` says it did), which saves the workflow a database step.
 */
export async function sendPlanned(
  input: NotificationInput & { content: Content },
  plan: DeliveryPlan,
  onResult: (result: TargetResult) => void,
  deliveredSeq?: number,
): Promise<{ results: TargetResult[]; recorded: boolean }> {
  plan.unavailable.forEach(onResult);
  const results: TargetResult[] = [...plan.unavailable];
  const single = plan.targets.length === 1 && plan.unavailable.length === 0;
  const recordDeliveredAs = single ? deliveredSeq : undefined;
  let recorded = false;

  const sendAll = async (targets: PlannedTarget[]) => {
    const settled = await Promise.allSettled(
      targets.map((t) =>
        sender(t.channel, plan.retry[t.channel]!)({
          notificationId: input.notificationId,
          userId: input.userId,
          type: input.type,
          category: input.category,
          metadata: input.metadata,
          content: input.content,
          targetId: t.targetId,
          ...(recordDeliveredAs !== undefined ? { recordDeliveredAs } : {}),
          ...(input.attemptOffset ? { attemptOffset: input.attemptOffset } : {}),
        }),
      ),
    );
    return settled.map((s, i): TargetResult => {
      if (s.status === 'fulfilled' && s.value.recorded) recorded = true;
      const base = { channel: targets[i].channel, targetId: targets[i].targetId, target: targets[i].target };
      const result: TargetResult =
        s.status === 'fulfilled'
          ? { ...base, outcome: s.value.outcome, errorType: s.value.reason }
          : { ...base, outcome: 'failed', ...failureOf(s.reason) };
      onResult(result);
      results.push(result);
      return result;
    });
  };

  if (input.routing === 'all') {
    await sendAll(plan.targets);
  } else {
    for (const channel of input.channels) {
      const batch = await sendAll(plan.targets.filter((t) => t.channel === channel));
      if (batch.some((r) => r.outcome === 'delivered')) break;
    }
  }
  return { results, recorded };
}

/** DELIVERED when any target took it, FAILED otherwise, with the reason an operator needs. */
export function outcomeOf(results: TargetResult[]) {
  const delivered = results.filter((r) => r.outcome === 'delivered').length;
  if (delivered > 0) return { to: 'DELIVERED' as const, reason: undefined, details: { delivered, targets: results.length } };
  const reason = results.some((r) => r.outcome === 'failed') ? 'all_targets_failed' : 'no_deliverable_target';
  return { to: 'FAILED' as const, reason, details: { targets: results } };
}
