import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import createHttpError, { isHttpError } from 'http-errors';
import {
  cancelUpdate,
  changeUpdate,
  deadLetterBatchQuery,
  NotificationStatusKey,
  NotificationSummaryKey,
  NotificationTypeKey,
  recheckSignal,
  ScheduledAtKey,
  statusQuery,
  supersedeSignal,
  TOO_LATE,
  UserIdKey,
  type Change,
  type DeadLetterBatchInput,
  type DeadLetterBatchProgress,
  type NotificationInput,
  type StatusView,
  type TooLateDetails,
} from '../../workflows/definitions';
import type { deadLetterBatchWorkflow, notificationWorkflowV7 } from '../../workflows';
import { notificationDetails, notificationSummary } from '../../workflows/summaries';

const UPDATE_DEADLINE_MS = 30_000;
/** A start is one call to the frontend, with no worker in the way: 15 s (over twice the worst p99 an overloaded dev server showed) means it is not answering. */
const START_DEADLINE_MS = 15_000;
const GRPC_DEADLINE_EXCEEDED = 4;

/** A shorter start delay would cost Temporal a timer for nothing: the run starts at once. */
const SHORTEST_START_DELAY_MS = 1_000;

/**
 * The start delay of a notification: its run's first workflow task comes `leadMs` before the due
 * time, or halfway to it when that is sooner, and the run sleeps the rest on a timer. Until then
 * nothing of it runs or is held in memory, and the create is one write to Temporal with no workflow
 * task: many created at once do not also keep the worker busy creating their workflows, which then
 * happens over the time before they are due. At the due time it is a timer firing, not a workflow
 * being created: created at the due instant, their first tasks would queue behind the closing tasks
 * of the ones already sent. `leadMs` 0 delays every notification until its due time.
 */
function startDelayFor(scheduledAt: string, leadMs: number): { startDelay?: number } {
  const untilDue = Date.parse(scheduledAt) - Date.now();
  const delay = untilDue - Math.min(leadMs, untilDue / 2);
  return delay >= SHORTEST_START_DELAY_MS ? { startDelay: Math.floor(delay) } : {};
}

/** A definitive answer to a cancel or change: it happened, or it came too late (and why). */
export type ControlOutcome =
  | { done: true; view: StatusView }
  | { done: false; tooLate?: TooLateDetails; invalid?: string; closed?: boolean };

/** What the API needs from Temporal, in the vocabulary of notifications. */
export class TemporalGateway {
  constructor(
    readonly client: Client,
    private readonly taskQueue: string,
    private readonly uiUrl?: string,
    /**
     * `encrypted`: payloads are encrypted, so search attributes (indexed in the clear) carry no user id
     * or text. `startDelayFromMs`: START_DELAY_FROM.
     */
    private readonly options: { encrypted?: boolean; startDelayFromMs?: number } = {},
  ) {}

  /** The notification's run in the Temporal Web UI (its latest run, history tab); undefined when no UI is configured. */
  uiLink(notificationId: string): string | undefined {
    if (!this.uiUrl) return undefined;
    return `${this.uiUrl}/namespaces/${encodeURIComponent(this.client.options.namespace)}/workflows/${encodeURIComponent(notificationId)}`;
  }

  /**
   * Starts the notification's workflow. Safe to repeat: a running workflow with the same id is
   * reused. Returns false when a closed run already holds the id — unless `redrive` is set: a
   * redriven notification is a new run under the id of its closed one.
   */
  async startNotification(input: NotificationInput, { redrive = false } = {}): Promise<boolean> {
    try {
      // Bounded like an update: with the cluster away the client would retry for tens of seconds; the
      // caller answers 503 and the client's retry with the same key starts it (USE_EXISTING).
      await this.bounded(START_DEADLINE_MS, 'the start', () =>
        this.client.workflow.start<typeof notificationWorkflowV7>('notificationWorkflowV7', {
          ...this.startOptions(input, redrive),
          // No workflow task until shortly before the due time: nothing runs while it waits.
          ...startDelayFor(input.scheduledAt, this.options.startDelayFromMs ?? 0),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /** How a notification's run starts: its id, type, UI summary and search attributes. */
  private startOptions(input: NotificationInput, redrive: boolean) {
    return {
      workflowId: input.notificationId,
      taskQueue: this.taskQueue,
      args: [input] as [NotificationInput],
      workflowIdConflictPolicy: 'USE_EXISTING' as const,
      workflowIdReusePolicy: redrive ? ('ALLOW_DUPLICATE' as const) : ('REJECT_DUPLICATE' as const),
      // What the Temporal UI shows for the run: who gets what, and what was asked for.
      staticSummary: notificationSummary(input),
      staticDetails: notificationDetails(input),
      typedSearchAttributes: [
        { key: NotificationStatusKey, value: 'SCHEDULED' },
        { key: NotificationTypeKey, value: input.type },
        { key: ScheduledAtKey, value: new Date(input.scheduledAt) },
        ...(this.options.encrypted
          ? []
          : [
              { key: UserIdKey, value: input.userId },
              { key: NotificationSummaryKey, value: notificationSummary(input) },
            ]),
      ],
    };
  }

  /** Starts a bulk redrive or discard under `operationId`; it runs in the worker. */
  async startDeadLetterBatch(operationId: string, input: DeadLetterBatchInput): Promise<void> {
    await this.client.workflow.start<typeof deadLetterBatchWorkflow>('deadLetterBatchWorkflow', {
      workflowId: operationId,
      taskQueue: this.taskQueue,
      args: [input],
    });
  }

  /** Where a bulk operation stands: its result once done, its live progress while running; undefined if unknown. */
  async deadLetterBatch(operationId: string): Promise<DeadLetterBatchProgress | undefined> {
    const handle = this.client.workflow.getHandle<typeof deadLetterBatchWorkflow>(operationId);
    try {
      const { status, type } = await handle.describe();
      if (type !== 'deadLetterBatchWorkflow') return undefined;
      if (status.name === 'COMPLETED') return await handle.result();
      return await this.client.connection.withDeadline(Date.now() + 2000, () => handle.query(deadLetterBatchQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      if ((err as { code?: number }).code === GRPC_DEADLINE_EXCEEDED) throw createHttpError(503, 'no worker answered within 2 s; retry later');
      throw err;
    }
  }

  /** `actor`: the API key (its id) asking, recorded with the transition. */
  cancel(notificationId: string, note?: string, actor?: string): Promise<ControlOutcome> {
    return this.control(() => this.client.workflow.getHandle(notificationId).executeUpdate(cancelUpdate, { args: [note ?? null, actor] }));
  }

  change(notificationId: string, change: Change, actor?: string): Promise<ControlOutcome> {
    return this.control(() => this.client.workflow.getHandle(notificationId).executeUpdate(changeUpdate, { args: [change, actor] }));
  }

  /**
   * The live view of a running notification; undefined once its run has closed, or when no worker
   * answers within two seconds (a query needs one), so a GET never hangs on a worker outage.
   * `untouchedSince`: the notification has recorded nothing since its acceptance, due at this time.
   * Its run may still wait on its start delay, and such a run has run no code to answer a query:
   * when Temporal confirms that, the view is the accepted one, waking at the due time.
   */
  async status(notificationId: string, untouchedSince?: { scheduledAt: string }): Promise<StatusView | undefined> {
    const handle = this.client.workflow.getHandle(notificationId);
    try {
      return await this.client.connection.withDeadline(Date.now() + 2000, () => handle.query(statusQuery));
    } catch {
      if (!untouchedSince || !(await this.inStartDelay(handle).catch(() => false))) return undefined;
      const { scheduledAt } = untouchedSince;
      return { notificationId, phase: 'SCHEDULED', reason: 'accepted', scheduledAt, nextWakeAt: scheduledAt, targets: [] };
    }
  }

  /** Whether the run is open and the end of its start delay (its first workflow task) is still ahead. */
  private async inStartDelay(handle: WorkflowHandle): Promise<boolean> {
    const { status, executionTime } = await this.client.connection.withDeadline(Date.now() + 2000, () => handle.describe());
    return status.name === 'RUNNING' && executionTime !== undefined && executionTime.getTime() > Date.now();
  }

  /**
   * Ends an older notification CANCELLED(replaced) now. A run still in its start delay takes a plain
   * signal only at its due time, so this is a signal-with-start: it wakes such a run at once, signals
   * a running one, and starts one whose start was lost (the create died in between) only to end it.
   * A closed run is left alone. Best effort: Postgres holds `replacedBy` too, and the due-time checks
   * honour it.
   */
  async supersede(older: NotificationInput, byNotificationId: string): Promise<void> {
    try {
      await this.client.workflow.signalWithStart<typeof notificationWorkflowV7, [string]>('notificationWorkflowV7', {
        ...this.startOptions(older, false),
        signal: supersedeSignal,
        signalArgs: [byNotificationId],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  async recheck(notificationId: string): Promise<void> {
    await this.client.workflow.getHandle(notificationId).signal(recheckSignal);
  }

  /**
   * Runs a call within `ms`, whatever happens on the wire: the gRPC deadline bounds each try, and
   * when it has passed the call is abandoned (the client's own retries of a cluster that refuses
   * connections can outlast a deadline by several seconds). Abandoned, it answers 503; the call may
   * still land, which is why every caller's retry is safe (a start reuses a running workflow).
   */
  private async bounded<T>(ms: number, what: string, call: () => Promise<T>): Promise<T> {
    const abandon = new AbortController();
    const timer = setTimeout(() => abandon.abort(), ms);
    const gaveUp = new Promise<never>((_, reject) =>
      abandon.signal.addEventListener('abort', () => reject(createHttpError(503, `Temporal did not complete ${what} within ${ms / 1000} s; retry later`))),
    );
    const running = this.client.connection.withAbortSignal(abandon.signal, () => this.client.connection.withDeadline(Date.now() + ms, call));
    running.catch(() => undefined); // once abandoned, its own failure has no one to tell
    try {
      return await Promise.race([running, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async control(update: () => Promise<StatusView>): Promise<ControlOutcome> {
    try {
      // An update needs a running worker and a reachable Postgres; without them, answer 503 rather than hang.
      return { done: true, view: await this.bounded(UPDATE_DEADLINE_MS, 'the update', update) };
    } catch (err) {
      if (isHttpError(err)) throw err;
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (err as { code?: number }).code === GRPC_DEADLINE_EXCEEDED) {
        throw createHttpError(503, `no answer within ${UPDATE_DEADLINE_MS / 1000} s: is a worker running and Postgres reachable? Retry later`);
      }
      if (err instanceof WorkflowNotFoundError) return { done: false, closed: true };
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause;
        if (cause instanceof ApplicationFailure && cause.type === TOO_LATE) {
          return { done: false, tooLate: cause.details?.[0] as TooLateDetails };
        }
        return { done: false, invalid: cause?.message ?? err.message };
      }
      // An update to a run that has already completed is refused by the server as "not found".
      if ((err as { code?: number }).code === 5 || /already completed|not found/i.test(String((err as Error).message))) {
        return { done: false, closed: true };
      }
      throw err;
    }
  }

  async isReachable(): Promise<boolean> {
    try {
      await this.client.connection.withDeadline(Date.now() + 1500, () => this.client.connection.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  }
}
