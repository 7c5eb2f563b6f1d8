import type { Channel } from '../workflows/definitions';
import type { DeliveryReporter } from '../src/reports';
import type { TemporalGateway } from '../src/temporal/gateway';
import { createCheckActivities, type CheckDeps } from './checks';
import { createDeadLetterActivities } from './dead-letters';
import { createDeliveryActivities, type DeliveryDeps } from './delivery';
import { createDueTimeActivities } from './due-time';
import { createSendPermits, type ChannelLimits } from './send-permits';
import { createRecordActivities } from './records';

export type ActivityDeps = DeliveryDeps &
  CheckDeps & {
    temporal: TemporalGateway;
    reporter: DeliveryReporter;
    /** Each channel's sending limits in this worker; unset: unlimited. */
    sendLimits?: Record<Channel, ChannelLimits>;
    /**
     * First attempts of one channel that V7 may make at once inside workflow tasks, each holding a
     * workflow-task slot while the provider answers: a provider that hangs holds at most this many.
     */
    inlineAttemptsPerChannel?: number;
  };

/**
 * Every activity the worker registers, built from its dependencies (samples' DI pattern). The
 * current workflow runs `deliverInlineAtDueTime` and `recordTransition` as local activities and the
 * sends as ordinary ones (`deliverAtDueTime` on a channel's queue when it has no permit to spare, and
 * for V4 to V6), and bulk dead-letter operations `actOnDeadLetters`.
 * `decideAtDueTime` (local) serves V2 and V3 runs, and `recordAccepted`, `evaluateDueChecks` and
 * `planDelivery` the first workflow version, until their last sleeping run has finished.
 */
export function createActivities(input: ActivityDeps) {
  // One set of permits for every sender of this worker, so a channel's limit counts all its sends.
  const deps = { ...input, permits: input.permits ?? createSendPermits(input.sendLimits, input.inlineAttemptsPerChannel ?? Number.MAX_SAFE_INTEGER) };
  return {
    ...createRecordActivities(deps),
    ...createCheckActivities(deps),
    ...createDueTimeActivities(deps),
    ...createDeliveryActivities(deps),
    ...createDeadLetterActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DeliveryPlan, PlannedTarget, SendFailureDetails, SendInput, SendOutput } from './delivery';
export type { UnrecordedAttempt } from '../src/db/attempts';
export type { DueDelivery, DueTimeDecision, DueTimeInput, FirstAttempt } from './due-time';
