import { ApplicationFailure, Context } from '@temporalio/activity';
import ms from 'ms';
import { backoffAfter } from '../workflows/activity-options';
import type { Channel, Content, Metadata, TargetResult } from '../workflows/definitions';
import type { RetrySettings } from '../src/config';
import type { Database } from '../src/db';
import { activeTargets, disableTarget, findTarget, type TargetRow } from '../src/db/targets';
import { attemptInsert, recordAttempt, unrecorded, type NewAttempt, type UnrecordedAttempt } from '../src/db/attempts';
import { applyTransition } from '../src/db/notifications';
import { ChannelError, targetHint, type ChannelAdapter } from '../src/channels/types';
import { safeError, type Logger } from '../src/logger';
import type { Metrics } from '../src/metrics';
import type { DeliveryReporter } from '../src/reports';
import { TemplateNotFoundError, type Renderer } from '../src/notifications/templates';
import { whileHeartbeating } from './heartbeat';
import { UNLIMITED_SEND_PERMITS, type SendPermits } from './send-permits';

export interface DeliveryDeps {
  db: Database;
  reporter: DeliveryReporter;
  metrics: Pick<Metrics, 'attemptMade' | 'targetDisabled' | 'sendingBegan'>;
  adapters: Partial<Record<Channel, ChannelAdapter>>;
  retry: Record<Channel, RetrySettings>;
  renderer: Renderer;
  log: Logger;
  /** Shared by every sender of the worker (unset: unlimited). */
  permits?: SendPermits;
}

export interface PlannedTarget {
  channel: Channel;
  targetId: string;
  target: string;
}

export interface DeliveryPlan {
  targets: PlannedTarget[];
  /** Channels asked for that cannot send at all right now (no credentials, or no active target). */
  unavailable: TargetResult[];
  retry: Partial<Record<Channel, RetrySettings>>;
}

export interface SendInput {
  notificationId: string;
  userId: string;
  type: string;
  category: string;
  metadata?: Metadata;
  content: Content;
  targetId: string;
  /**
   * Set when this is the notification's only target: a delivery then also records DELIVERED under
   * this transition number, in the same write as the attempt log, so the workflow needs no further
   * database step. Anything else (a failure, a skip) is left for the workflow to record.
   */
  recordDeliveredAs?: number;
  /** Attempts of earlier runs of this notification (it was redriven): logged attempt numbers continue after them. */
  attemptOffset?: number;
}

export interface SendOutput {
  outcome: 'delivered' | 'skipped';
  providerMessageId?: string;
  reason?: string;
  /** DELIVERED is in Postgres already (see `recordDeliveredAs`). */
  recorded?: boolean;
  /** The attempt-log row, when Postgres could not take it: the workflow writes it later. */
  unrecorded?: UnrecordedAttempt;
}

/** What a send's ApplicationFailure carries in its details, for the workflow. */
export interface SendFailureDetails {
  kind: string;
  httpStatus?: number;
  unrecorded?: UnrecordedAttempt;
}

/** How one attempt is made when it is not a send activity of its own (see `deliverAtDueTime`). */
export interface AttemptOptions {
  /** The target's row, read a moment ago in the same activity: no second read. */
  target?: TargetRow;
  /** Bounds the provider call as the send activity's start-to-close timeout would. */
  attemptTimeoutMs?: number;
  /** The attempt's number before `attemptOffset` (a send activity uses Temporal's). */
  attempt?: number;
  /** The caller already holds the channel's send permit (a first attempt inside a workflow task). */
  permitHeld?: boolean;
}

/**
 * A write after the provider answered gets at most this long, and never past the activity's own
 * timeout: an activity that times out is run again, and would send again. A database that is down
 * answers at once; this guards against one that never answers (a connection lost mid-query).
 */
const WRITE_AFTER_SEND_LIMIT_MS = 5_000;
const WRITE_AFTER_SEND_FLOOR_MS = 1_000;

function beforeDeadline<T>(write: Promise<T>): Promise<T> {
  const { currentAttemptScheduledTimestampMs, startToCloseTimeoutMs } = Context.current().info;
  const left = currentAttemptScheduledTimestampMs + startToCloseTimeoutMs - Date.now() - WRITE_AFTER_SEND_FLOOR_MS;
  const ms = Math.max(WRITE_AFTER_SEND_FLOOR_MS, Math.min(WRITE_AFTER_SEND_LIMIT_MS, left));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${ms} ms`)), ms);
  });
  write.catch(() => undefined); // once abandoned, its own failure has no one to tell
  return Promise.race([write, late]).finally(() => clearTimeout(timer));
}

/** The SDK's activity logger: through pino, with the workflow id, run id and activity attempt on every line. */
const activityLog = () => Context.current().log;

/**
 * One provider call for one target; the attempt is logged whatever happens. A failure is thrown as
 * the ApplicationFailure Temporal's retry policy acts on: its type is the error code, `nonRetryable`
 * for permanent errors, `nextRetryDelay` when the provider (or a configuration error) says when.
 */
export function createSender({ db, adapters, retry, renderer, log, reporter, metrics, permits = UNLIMITED_SEND_PERMITS }: DeliveryDeps) {
  return async function send(channel: Channel, input: SendInput, options: AttemptOptions = {}): Promise<SendOutput> {
    const adapter = adapters[channel];
    if (!adapter) return { outcome: 'skipped', reason: 'channel_not_configured' };
    const target = options.target ?? (await findTarget(db, input.targetId));
    // Disabled since the plan was made (another notification hit a permanent error): skip, don't send.
    if (!target || target.disabledAt) return { outcome: 'skipped', reason: target?.disabledReason ?? 'target_deleted' };
    const release = options.permitHeld ? undefined : await permits.acquire(channel);
    try {
      return await attemptSend(adapter, target, channel, input, options);
    } finally {
      release?.();
    }
  };

  async function attemptSend(adapter: ChannelAdapter, target: TargetRow, channel: Channel, input: SendInput, options: AttemptOptions): Promise<SendOutput> {
    const { info, cancellationSignal } = Context.current();
    const signal = options.attemptTimeoutMs ? AbortSignal.any([cancellationSignal, AbortSignal.timeout(options.attemptTimeoutMs)]) : cancellationSignal;
    const attemptNumber = options.attempt ?? info.attempt;
    const attempt = {
      notificationId: input.notificationId,
      targetId: target.id,
      channel,
      targetHint: targetHint(target.address),
      attempt: attemptNumber + (input.attemptOffset ?? 0),
      rendered: null as { title?: string; body: string } | null,
      startedAt: new Date(),
    };
    // What each line about this attempt says; the activity logger adds the workflow and run ids.
    const logged = {
      notificationId: input.notificationId,
      channel,
      target: attempt.targetHint,
      attempt: attempt.attempt,
      maxAttempts: retry[channel].maximumAttempts + (input.attemptOffset ?? 0),
    };
    const about = { notificationId: input.notificationId, channel, target: attempt.targetHint };
    const logWriteFailure = (err: unknown) =>
      log.error({ ...about, attempt: attempt.attempt, err: safeError(err) }, 'the attempt log write failed: the row goes to the workflow, which writes it once Postgres answers');
    /** Writes the attempt-log row, or hands it back (undefined once written). */
    const recordOrHandBack = (row: NewAttempt) =>
      beforeDeadline(recordAttempt(db, row)).then(
        () => undefined,
        (err) => {
          logWriteFailure(err);
          return unrecorded(row);
        },
      );
    let receipt: Awaited<ReturnType<ChannelAdapter['send']>>;
    try {
      const message = await renderer.render(input.content, channel, input.userId).catch((err) => {
        if (err instanceof TemplateNotFoundError) throw new ChannelError('permanent', 'template_not_found', err.message);
        throw err;
      });
      attempt.rendered = { title: message.title, body: message.body };
      receipt = await adapter.send({
        notificationId: input.notificationId,
        userId: input.userId,
        type: input.type,
        category: input.category,
        metadata: input.metadata,
        message,
        target,
        signal,
      });
    } catch (err) {
      const failure = err instanceof ChannelError ? err : new ChannelError('retryable', 'unexpected_error', String(err));
      // The provider's answer decides what happens next, not whether Postgres took the log row:
      // failing on the write would retry a permanent error or ignore a Retry-After.
      const lateRow = await recordOrHandBack({
        ...attempt,
        outcome: `${failure.kind}_error`,
        httpStatus: failure.extra.httpStatus,
        errorCode: failure.code,
        errorMessage: failure.message,
      });
      metrics.attemptMade(channel, `${failure.kind}_error`, failure.code);
      if (failure.extra.disableTarget) {
        await beforeDeadline(disableTarget(db, target.id, failure.code)).then(
          () => metrics.targetDisabled(channel, failure.code),
          (err) => log.error({ ...about, err: safeError(err) }, 'the target answered that it is gone, but disabling it failed: the next send to it tries again'),
        );
      }
      const configuration = failure.kind === 'configuration';
      const nextRetryDelay = configuration ? retry[channel].configurationRetryDelayMs : failure.extra.retryAfterMs;
      const policy = retry[channel];
      const retried = failure.kind !== 'permanent' && attemptNumber < policy.maximumAttempts;
      const outcome = {
        ...logged,
        code: failure.code,
        // Within the channel's budget (RETRY_<CHANNEL>_TOTAL_TIMEOUT), which may end the retries earlier.
        nextRetry: retried ? ms(nextRetryDelay ?? backoffAfter(policy, attemptNumber)) : 'none',
      };
      if (configuration) activityLog().error(`${channel} configuration error, fix the credentials or setup: ${failure.message}`, outcome);
      else activityLog().warn(`send failed: ${failure.message}`, outcome);
      throw ApplicationFailure.create({
        type: failure.code,
        message: failure.message,
        nonRetryable: failure.kind === 'permanent',
        nextRetryDelay,
        details: [{ kind: failure.kind, httpStatus: failure.extra.httpStatus, ...(lateRow ? { unrecorded: lateRow } : {}) } satisfies SendFailureDetails],
      });
    }
    // The provider has it. A failing write must not turn that into a retry (a second send): the
    // workflow records the outcome itself when `recorded` is not set, and the row handed back.
    const delivered = { ...attempt, outcome: 'delivered', ...receipt };
    metrics.attemptMade(channel, 'delivered', undefined);
    if (log.isLevelEnabled('info')) activityLog().info('delivered', { ...logged, providerMessageId: receipt.providerMessageId });
    const outcome = input.recordDeliveredAs;
    const deliveredTransition = outcome === undefined ? undefined : ({
      notificationId: input.notificationId,
      seq: outcome,
      from: 'SENDING',
      to: 'DELIVERED',
      details: { delivered: 1, targets: 1 },
      at: new Date().toISOString(),
    } as const);
    const answer = { outcome: 'delivered', providerMessageId: receipt.providerMessageId } as const;
    if (deliveredTransition === undefined) {
      const lateRow = await recordOrHandBack(delivered);
      return { ...answer, ...(lateRow ? { unrecorded: lateRow } : {}) };
    }
    try {
      if (await beforeDeadline(applyTransition(db, deliveredTransition, { always: attemptInsert(delivered) }))) reporter.transitionRecorded(deliveredTransition);
      return { ...answer, recorded: true };
    } catch (err) {
      logWriteFailure(err);
      return { ...answer, unrecorded: unrecorded(delivered) };
    }
  }
}

export function createDeliveryActivities(deps: DeliveryDeps) {
  const { db, adapters, retry } = deps;
  const send = createSender(deps);
  return {
    /** Resolves the recipient's active targets for the requested channels, and each channel's retry policy. */
    planDelivery: (userId: string, channels: Channel[]) => planDelivery({ db, adapters, retry }, userId, channels),
    sendWebhook: (input: SendInput) => whileHeartbeating(() => send('webhook', input)),
    sendFcm: (input: SendInput) => whileHeartbeating(() => send('fcm', input)),
    sendWebPush: (input: SendInput) => whileHeartbeating(() => send('webpush', input)),
    sendTelegram: (input: SendInput) => whileHeartbeating(() => send('telegram', input)),
    sendEmail: (input: SendInput) => whileHeartbeating(() => send('email', input)),
    sendSms: (input: SendInput) => whileHeartbeating(() => send('sms', input)),
    sendKakao: (input: SendInput) => whileHeartbeating(() => send('kakao', input)),
  };
}

/** The targets a notification goes to, decided when sending begins (a target registered since creation counts). */
export async function planDelivery(deps: Pick<DeliveryDeps, 'db' | 'adapters' | 'retry'>, userId: string, channels: Channel[]): Promise<DeliveryPlan> {
  return planFromRows(deps, channels, await activeTargets(deps.db, userId, configuredChannels(deps, channels)));
}

export const configuredChannels = ({ adapters }: Pick<DeliveryDeps, 'adapters'>, channels: Channel[]) => channels.filter((c) => adapters[c]);

/** The plan for `rows`, the recipient's active targets on the configured channels among those asked for. */
export function planFromRows({ adapters, retry }: Pick<DeliveryDeps, 'adapters' | 'retry'>, channels: Channel[], rows: TargetRow[]): DeliveryPlan {
  const unavailable: TargetResult[] = channels
    .filter((c) => !adapters[c] || !rows.some((r) => r.channel === c))
    .map((c) => ({
      channel: c,
      targetId: '',
      target: '',
      outcome: 'skipped',
      errorType: adapters[c] ? 'no_active_target' : 'channel_not_configured',
    }));
  return {
    targets: rows.map((r) => ({ channel: r.channel, targetId: r.id, target: targetHint(r.address) })),
    unavailable,
    retry: Object.fromEntries(configuredChannels({ adapters }, channels).map((c) => [c, retry[c]])),
  };
}
