// The contract shared by the workflow, the worker and the API. Only workflow-safe imports here:
// this module is bundled into the deterministic workflow sandbox.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CHANNELS = ['webhook', 'fcm', 'webpush', 'telegram', 'email', 'sms', 'kakao'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * The task queue a channel's sends run on (from `notificationWorkflowV5` on): each has its own worker
 * slots and rate cap, so a slow or failing provider cannot hold the sends of the others.
 */
export const channelTaskQueue = (taskQueue: string, channel: Channel) => `${taskQueue}-send-${channel}`;

export const STATUSES = ['SCHEDULED', 'DEFERRED', 'SENDING', 'DELIVERED', 'FAILED', 'CANCELLED', 'EXPIRED'] as const;
export type NotificationStatus = (typeof STATUSES)[number];
export const PENDING_STATUSES = ['SCHEDULED', 'DEFERRED'] as const satisfies readonly NotificationStatus[];
export const TERMINAL_STATUSES = ['DELIVERED', 'FAILED', 'CANCELLED', 'EXPIRED'] as const satisfies readonly NotificationStatus[];

export const CANCEL_REASONS = ['requested', 'replaced', 'user_active', 'opted_out', 'quiet_hours_drop'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];
/** `channel_quiet_hours`: one of the notification's channels is in its own quiet hours (in the recipient's time zone). */
export type DeferReason = 'quiet_hours' | 'channel_quiet_hours' | 'throttled' | 'delivery_off';

export type Routing = 'all' | 'fallback';

export interface InlineContent {
  title?: string;
  body: string;
  data?: Record<string, string>;
  url?: string;
}
export interface TemplateContent {
  template: { key: string; locale?: string; data?: Record<string, unknown> };
}
export type Content = InlineContent | TemplateContent;

/** Correlation fields carried to delivery reports and receivers; never interpreted by Herald. */
export type Metadata = Record<string, string | number | boolean | null>;

export interface NotificationInput {
  notificationId: string;
  idempotencyKey: string;
  /** Hash of the normalised create request: same key + different body is refused. */
  requestFingerprint: string;
  userId: string;
  type: string;
  category: string;
  channels: Channel[];
  routing: Routing;
  content: Content;
  /** ISO-8601 UTC instants: time-zone maths never happens in workflow code. */
  scheduledAt: string;
  expiresAt?: string;
  collapseKey?: string;
  metadata?: Metadata;
  /**
   * Set when a long-held notification continues as a new run (its history grew too long), and when an
   * operator redrives a FAILED one (a new run under the same workflow id).
   */
  resume?: ResumeState;
  /** Attempts logged by earlier runs (a redriven notification): its attempt numbers carry on after them. */
  attemptOffset?: number;
}

/** What a continued run needs to carry on exactly where the previous one stopped. */
export interface ResumeState {
  seq: number;
  status: 'SCHEDULED' | 'DEFERRED';
  reason?: string;
  deferReason?: DeferReason;
  dueAt: string;
}

export type TargetOutcome = 'delivered' | 'failed' | 'skipped';
export interface TargetResult {
  channel: Channel;
  targetId: string;
  /** Shortened address, safe to show and log. */
  target: string;
  outcome: TargetOutcome;
  errorType?: string;
  message?: string;
}

export interface NotificationResult {
  status: NotificationStatus;
  reason?: string;
  targets: TargetResult[];
}

export interface StatusView {
  notificationId: string;
  phase: NotificationStatus;
  reason?: string;
  /** When the workflow next wakes up on its own (due time or end of a deferral). */
  nextWakeAt?: string;
  scheduledAt: string;
  deferReason?: DeferReason;
  sendingStartedAt?: string;
  replacedBy?: string;
  targets: TargetResult[];
}

/** Thrown (as an ApplicationFailure of this type) when a change arrives after sending began. */
export const TOO_LATE = 'too_late';
export interface TooLateDetails {
  status: NotificationStatus;
  sendingStartedAt?: string;
}

export const NotificationStatusKey = defineSearchAttributeKey('NotificationStatus', SearchAttributeType.KEYWORD);
export const UserIdKey = defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD);
export const NotificationTypeKey = defineSearchAttributeKey('NotificationType', SearchAttributeType.KEYWORD);
export const ScheduledAtKey = defineSearchAttributeKey('ScheduledAt', SearchAttributeType.DATETIME);
/**
 * The run's summary as a column the Temporal UI's workflow list can show (the list does not show the
 * run's static summary, only search attributes): channels, recipient, type and title. Set at start.
 * A Keyword (exact or STARTS_WITH matches): a Text attribute would be full-text indexed, which a
 * summary does not need.
 */
export const NotificationSummaryKey = defineSearchAttributeKey('NotificationSummary', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [NotificationStatusKey, UserIdKey, NotificationTypeKey, ScheduledAtKey, NotificationSummaryKey];

/** A change to a pending notification: a new due time, new content, or both. */
export interface Change {
  scheduledAt?: string;
  content?: Content;
}

/** What the due-time checks decided (computed in an activity: time zones stay out of workflow code). */
export type DueVerdict =
  | { action: 'send' }
  | { action: 'expire' }
  | { action: 'cancel'; reason: CancelReason; replacedBy?: string }
  | { action: 'defer'; reason: DeferReason; until: string };

export const statusQuery = defineQuery<StatusView>('status');

/** Which dead letters a bulk operation takes: the filters of GET /v1/dlq, as ISO strings. */
export interface DeadLetterFilterInput {
  channel?: Channel;
  errorType?: string;
  type?: string;
  userId?: string;
  failedFrom?: string;
  failedTo?: string;
}

export interface DeadLetterBatchInput {
  action: 'redrive' | 'discard';
  filter: DeadLetterFilterInput;
  /** Who started it (API key id) and why: recorded with every notification it touches. */
  note: { by: string; reason: string };
  /** Redrive only: when the notifications are due again (now when unset). */
  scheduledAt?: string;
  /** At most this many notifications. */
  limit: number;
}

export interface DeadLetterBatchProgress {
  action: 'redrive' | 'discard';
  state: 'running' | 'completed' | 'gave_up';
  /** Notifications redriven or discarded so far. */
  done: number;
  /** Ids that could not be handled (each is logged by the worker), skipped from then on. */
  failed: string[];
}

export const deadLetterBatchQuery = defineQuery<DeadLetterBatchProgress>('progress');

// Signals: fire-and-forget, so an operator can send them with `temporal workflow signal`.
export const cancelSignal = defineSignal<[reason?: string]>('cancel');
export const rescheduleSignal = defineSignal<[scheduledAt: string]>('reschedule');
export const replaceSignal = defineSignal<[content: Content, scheduledAt?: string]>('replace');
export const supersedeSignal = defineSignal<[byNotificationId: string]>('supersede');
/** Re-run the due-time checks now (preferences or the delivery switch changed). */
export const recheckSignal = defineSignal('recheck');

// Updates: the API's synchronous versions, answering "done" or failing with `too_late`.
/** `actor`: the API key (its id) asking, recorded with the transition (sent by Herald's API from V5 on). */
export const cancelUpdate = defineUpdate<StatusView, [note: string | null, actor?: string]>('cancelNotification');
export const changeUpdate = defineUpdate<StatusView, [change: Change, actor?: string]>('changeNotification');
