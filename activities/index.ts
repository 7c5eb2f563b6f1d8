import type { DeliveryReporter } from '../src/reports';
import type { TemporalGateway } from '../src/temporal/gateway';
import { createCheckActivities, type CheckDeps } from './checks';
import { createDeadLetterActivities } from './dead-letters';
import { createDeliveryActivities, type DeliveryDeps } from './delivery';
import { createDueTimeActivities } from './due-time';
import { createRecordActivities } from './records';

export type ActivityDeps = DeliveryDeps & CheckDeps & { temporal: TemporalGateway; reporter: DeliveryReporter };

/**
 * Every activity the worker registers, built from its dependencies (samples' DI pattern). The
 * current workflow runs `deliverAtDueTime` and the sends as ordinary activities and
 * `recordTransition` as a local one, and bulk dead-letter operations `actOnDeadLetters`.
 * `decideAtDueTime` (local) serves V2 and V3 runs, and `recordAccepted`, `evaluateDueChecks` and
 * `planDelivery` the first workflow version, until their last sleeping run has finished.
 */
export function createActivities(deps: ActivityDeps) {
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
