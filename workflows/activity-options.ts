import { ActivityCancellationType, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';

/**
 * Database reads and writes: never given up on. During a Postgres outage they keep retrying (at most
 * one try a minute) and the notification carries on afterwards; nothing is dropped.
 */
export const DATABASE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
  // Explicit: the SDK's wire default is TRY_CANCEL whatever its JSDoc says; a started write should finish.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/**
 * The same writes as local activities: they run inside the workflow task that needs them, with no
 * task-queue round trip and one history event each. Retried forever like the above; a retry due more
 * than 10 s later is scheduled as a durable timer, so a Postgres outage holds no worker slot.
 */
export const DATABASE_LOCAL_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
  localRetryThreshold: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};
