// The state of one notification run, the commands its handlers queue, and the views they give out.
import { ApplicationFailure } from '@temporalio/workflow';
import {
  TOO_LATE,
  type CancelReason,
  type Change,
  type Content,
  type DeferReason,
  type NotificationInput,
  type NotificationStatus,
  type StatusView,
  type TargetResult,
  type TooLateDetails,
} from './definitions';

/** What a handler asks of the main loop; `reply` is set once the loop has recorded the outcome. */
export type Command = (
  | { kind: 'cancel'; reason: CancelReason; replacedBy?: string; note?: string }
  | { kind: 'change'; change: Change }
  | { kind: 'recheck' }
) & {
  reply?: Reply;
  /** The API key (its id) whose request this is; recorded with the transition. */
  actor?: string;
};

/** An update's answer: done, or refused with the failure the caller sees. */
export interface Reply {
  settled: boolean;
  failure?: ApplicationFailure;
}

/**
 * Everything the workflow knows. Only the main loop changes `status`, and only after Postgres has
 * recorded it, so what a handler or query sees is always what Postgres says (or is about to say).
 */
export interface RunState {
  status: NotificationStatus;
  reason?: string;
  deferReason?: DeferReason;
  /** Sequence number of the last transition recorded in Postgres. */
  seq: number;
  dueAt: number;
  scheduledAt: string;
  content: Content;
  sendingStartedAt?: string;
  replacedBy?: string;
  targets: TargetResult[];
  /** Commands from handlers, drained by the main loop in arrival order. */
  inbox: Command[];
  /** A cancel is queued or being recorded: changes are refused from now on. */
  cancelling: boolean;
}

export const isPending = (s: Pick<RunState, 'status'>) => s.status === 'SCHEDULED' || s.status === 'DEFERRED';

export function statusView(input: NotificationInput, s: RunState): StatusView {
  return {
    notificationId: input.notificationId,
    phase: s.status,
    reason: s.reason,
    scheduledAt: s.scheduledAt,
    nextWakeAt: isPending(s) ? new Date(s.dueAt).toISOString() : undefined,
    deferReason: s.status === 'DEFERRED' ? s.deferReason : undefined,
    sendingStartedAt: s.sendingStartedAt,
    replacedBy: s.replacedBy,
    targets: s.targets,
  };
}

/** The answer to a cancel or change that can no longer take effect, naming where the notification stands. */
export function tooLate(s: RunState): ApplicationFailure {
  const status = isPending(s) && s.cancelling ? 'CANCELLED' : s.status;
  const details: TooLateDetails = { status, sendingStartedAt: s.sendingStartedAt };
  const message = s.sendingStartedAt
    ? `too late: sending began at ${s.sendingStartedAt}`
    : status === 'CANCELLED' && isPending(s)
      ? 'too late: the notification is being cancelled'
      : `too late: the notification is already ${status}`;
  return ApplicationFailure.create({ type: TOO_LATE, message, nonRetryable: true, details: [details] });
}
