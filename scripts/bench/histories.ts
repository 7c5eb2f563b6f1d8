// What one delivered notification costs in Temporal, read from real histories: events, and the
// actions Temporal Cloud bills, broken down by kind.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { spread, type Spread } from './stats';
import { mapLimit, withTimeout } from './timing';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActionCount {
  events: number;
  /** Workflow started: always 1 per run. */
  start: number;
  timers: number;
  /** Activity attempts: each scheduled activity counts the attempt it finished on (retries included). */
  activityAttempts: number;
  /** Workflow tasks that recorded local activities: Cloud bills all of one task's local activities as one action. */
  localActivityTasks: number;
  signals: number;
  updates: number;
  /** Search-attribute upserts, leaving out the SDK's own TemporalChangeVersion bookkeeping. */
  upserts: number;
  actions: number;
}

export const ACTION_KINDS = ['start', 'timers', 'activityAttempts', 'localActivityTasks', 'signals', 'updates', 'upserts'] as const;

export function countActions(events: readonly HistoryEvent[]): ActionCount {
  const count = (has: (e: HistoryEvent) => unknown) => events.filter(has).length;
  const attemptOf = new Map<string, number>();
  for (const e of events) {
    const started = e.activityTaskStartedEventAttributes;
    if (started) attemptOf.set(String(started.scheduledEventId), started.attempt ?? 1);
  }
  const activityAttempts = events
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .reduce((sum, e) => sum + (attemptOf.get(String(e.eventId)) ?? 1), 0);
  const localActivityTasks = new Set(
    events
      .map((e) => e.markerRecordedEventAttributes)
      .filter((m) => m?.markerName === 'core_local_activity')
      .map((m) => String(m!.workflowTaskCompletedEventId)),
  ).size;
  const upserts = count((e) => {
    const fields = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
    return e.upsertWorkflowSearchAttributesEventAttributes && !(fields.length === 1 && fields[0] === 'TemporalChangeVersion');
  });
  const breakdown = {
    start: count((e) => e.workflowExecutionStartedEventAttributes),
    timers: count((e) => e.timerStartedEventAttributes),
    activityAttempts,
    localActivityTasks,
    signals: count((e) => e.workflowExecutionSignaledEventAttributes),
    updates: count((e) => e.workflowExecutionUpdateAcceptedEventAttributes),
    upserts,
  };
  return { events: events.length, ...breakdown, actions: ACTION_KINDS.reduce((sum, kind) => sum + breakdown[kind], 0) };
}

export interface HistorySample {
  system: string;
  workflowIds: string[];
  perWorkflow: ActionCount[];
  summary: Record<keyof ActionCount, Spread>;
}

/** Reads up to `limit` histories, spread evenly over `workflowIds`, and summarises them field by field. */
export async function sampleHistories(client: Client, system: string, workflowIds: string[], limit = 20): Promise<HistorySample> {
  const step = Math.max(1, Math.floor(workflowIds.length / limit));
  const picked = workflowIds.filter((_, i) => i % step === 0).slice(0, limit);
  const perWorkflow = await mapLimit(picked, 5, async (id) => {
    // A run finishes a moment after its send reaches the sink: read the history once it is closed.
    const handle = client.workflow.getHandle(id);
    // Bounded like every wait here: a run that never closes is read as it is.
    await withTimeout(`workflow ${id} to close`, handle.result(), 60_000).catch(() => undefined);
    const history = await handle.fetchHistory();
    return countActions(history.events ?? []);
  });
  const fields = Object.keys(perWorkflow[0] ?? {}) as (keyof ActionCount)[];
  const summary = Object.fromEntries(fields.map((f) => [f, spread(perWorkflow.map((c) => c[f]))])) as Record<keyof ActionCount, Spread>;
  return { system, workflowIds: picked, perWorkflow, summary };
}
