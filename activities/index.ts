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
 * current workflow runs `decideAtDueTime` and `recordTransition` as local activities and the sends
 * as ordinary ones, and bulk dead-letter operations `actOnDeadLetters`; `recordAccepted`, `evaluateDueChecks` and `planDelivery` serve the first
 * workflow version until its last sleeping run has finished.
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
export type { DeliveryPlan, PlannedTarget, SendInput, SendOutput } from './delivery';
export type { DueTimeDecision, DueTimeInput } from './due-time';
