import { ActivityCancellationType, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { RetrySettings } from '../src/config';

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

/**
 * How long the server waits for a heartbeat from a running send before it counts the worker as gone
 * and retries the activity elsewhere. Without heartbeats, a send running on a worker that crashed
 * would wait for its whole start-to-close timeout (up to 2 minutes) before its retry.
 */
export const SEND_HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * The due-time activity of V4 (`deliverAtDueTime`): its database work is retried like the above,
 * never given up on. A provider failure in the first attempt it makes is not thrown but returned,
 * and the workflow applies the channel's retry policy from there, so its retries here are only for
 * the database and a lost worker. The timeout holds the database work and one attempt of at most
 * `INLINE_ATTEMPT_LIMIT_MS` (a channel with longer attempts is sent by a send activity instead).
 */
export const DUE_DELIVERY_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '2m',
  // It heartbeats while it takes longer than a moment: a worker that dies mid-send is noticed in 10 s.
  heartbeatTimeout: SEND_HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1s', maximumInterval: '1m' },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/**
 * The due-time activity of V7, run as a local activity inside the wake-up's workflow task. Retried
 * forever like the database writes: a retry due more than 10 s later is a durable timer, so a
 * Postgres outage holds no worker slot. The timeout holds the database work and one attempt of at
 * most `INLINE_ATTEMPT_LIMIT_MS`; the worker keeps the workflow task alive meanwhile.
 */
export const DUE_DELIVERY_LOCAL_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
  localRetryThreshold: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/** Each retry of a send waits this many times longer than the one before, up to the channel's maximum interval. */
export const SEND_BACKOFF_COEFFICIENT = 2;

/** The wait a channel's retry policy puts after its failed attempt number `attempt` (1, 2, …). */
export function backoffAfter(policy: Pick<RetrySettings, 'initialIntervalMs' | 'maximumIntervalMs'>, attempt: number): number {
  return Math.min(policy.initialIntervalMs * SEND_BACKOFF_COEFFICIENT ** (attempt - 1), policy.maximumIntervalMs);
}
