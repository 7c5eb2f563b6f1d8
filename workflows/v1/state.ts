// The state of one notification run, and the views of it that handlers give out.
import { ApplicationFailure } from '@temporalio/workflow';
import {
  TOO_LATE,
  type CancelReason,
  type Change,
  type DeferReason,
  type NotificationInput,
  type NotificationStatus,
  type StatusView,
  type TargetResult,
  type TooLateDetails,
} from '../definitions';

/** Everything the workflow knows; handlers change it, the main loop acts on it and records it. */
export interface NotificationState {
  status: NotificationStatus;
  reason?: string;
  seq: number;
  /** `seq` of the last transition Postgres has confirmed. */
  recordedSeq: number;
  dueAt: number;
  scheduledAt: string;
  content: NotificationInput['content'];
  deferReason?: DeferReason;
  sendingStartedAt?: string;
  cancel?: { reason: CancelReason; replacedBy?: string; note?: string };
  /** Changes accepted by a handler and not yet written to Postgres. */
  unrecorded?: Change;
  changeVersion: number;
  recordedChangeVersion: number;
  /** Bumped by a handler that needs the sleeping main loop to look again. */
  wake: number;
  /** The recheck signal arrived: run the due-time checks now. */
  recheckRequested: boolean;
  targets: TargetResult[];
}

export const isPending = (s: NotificationState) => s.status === 'SCHEDULED' || s.status === 'DEFERRED';
export const isTerminal = (s: NotificationState) => !isPending(s) && s.status !== 'SENDING';
/** Terminal, and written to Postgres: what an update waits for before it answers. */
export const isSettled = (s: NotificationState) => isTerminal(s) && s.recordedSeq === s.seq;

export function statusView(input: NotificationInput, s: NotificationState): StatusView {
  return {
    notificationId: input.notificationId,
    phase: s.status,
    reason: s.reason,
    scheduledAt: s.scheduledAt,
    nextWakeAt: isPending(s) ? new Date(s.dueAt).toISOString() : undefined,
    deferReason: s.status === 'DEFERRED' ? s.deferReason : undefined,
    sendingStartedAt: s.sendingStartedAt,
    replacedBy: s.cancel?.replacedBy,
    targets: s.targets,
  };
}

/** The answer to a cancel or change that arrives once sending has begun (or the notification has ended). */
export function tooLate(s: NotificationState): ApplicationFailure {
  const details: TooLateDetails = { status: s.status, sendingStartedAt: s.sendingStartedAt };
  const message = s.sendingStartedAt
    ? `too late: sending began at ${s.sendingStartedAt}`
    : `too late: the notification is already ${s.status}`;
  return ApplicationFailure.create({ type: TOO_LATE, message, nonRetryable: true, details: [details] });
}

