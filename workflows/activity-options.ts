import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';

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
