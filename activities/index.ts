import { createCheckActivities, type CheckDeps } from './checks';
import { createDeliveryActivities, type DeliveryDeps } from './delivery';
import { createRecordActivities } from './records';

export type ActivityDeps = DeliveryDeps & CheckDeps;

/** Every activity the worker registers, built from its dependencies (samples' DI pattern). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordActivities(deps),
    ...createCheckActivities(deps),
    ...createDeliveryActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DeliveryPlan, PlannedTarget, SendInput, SendOutput } from './delivery';
