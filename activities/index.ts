import { createCheckActivities, type CheckDeps } from './checks';
import { createDeliveryActivities, type DeliveryDeps } from './delivery';
import { createDueTimeActivities } from './due-time';
import { createRecordActivities } from './records';

export type ActivityDeps = DeliveryDeps & CheckDeps;

/**
 * Every activity the worker registers, built from its dependencies (samples' DI pattern). The
 * current workflow runs `decideAtDueTime` and `recordTransition` as local activities and the sends
 * as ordinary ones; `recordAccepted`, `evaluateDueChecks` and `planDelivery` serve the first
 * workflow version until its last sleeping run has finished.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordActivities(deps),
    ...createCheckActivities(deps),
    ...createDueTimeActivities(deps),
    ...createDeliveryActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DeliveryPlan, PlannedTarget, SendInput, SendOutput } from './delivery';
export type { DueTimeDecision, DueTimeInput } from './due-time';
