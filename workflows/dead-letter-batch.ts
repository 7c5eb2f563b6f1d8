// A redrive or discard of every dead letter that matches a filter. It runs as a workflow so that a
// large operation neither holds an HTTP request open nor stops halfway when a process restarts; the
// API answers with its id at once, and the operator polls its progress.
import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DATABASE_ACTIVITY } from './activity-options';
import { deadLetterBatchQuery, type DeadLetterBatchInput, type DeadLetterBatchProgress } from './definitions';

const { actOnDeadLetters } = proxyActivities<Activities>(DATABASE_ACTIVITY);

/** Notifications handled per activity: small enough for one attempt to finish well within its timeout. */
const STEP = 50;
/** Ids that could not be handled are skipped from then on; past this many, the operation gives up. */
const MAX_FAILURES = 500;

export async function deadLetterBatchWorkflow(input: DeadLetterBatchInput): Promise<DeadLetterBatchProgress> {
  const progress: DeadLetterBatchProgress = { action: input.action, state: 'running', done: 0, failed: [] };
  setHandler(deadLetterBatchQuery, () => progress);

  while (progress.done + progress.failed.length < input.limit) {
    // Handled notifications leave the filter's set (redriven: no longer FAILED; discarded: marked),
    // so each step simply takes the oldest ones still matching.
    const step = await actOnDeadLetters({
      action: input.action,
      filter: input.filter,
      note: input.note,
      scheduledAt: input.scheduledAt,
      skip: progress.failed,
      max: Math.min(STEP, input.limit - progress.done - progress.failed.length),
    });
    progress.done += step.done;
    progress.failed.push(...step.failed);
    if (step.matched === 0) break;
    if (progress.failed.length > MAX_FAILURES) {
      progress.state = 'gave_up';
      return progress;
    }
  }
  progress.state = 'completed';
  return progress;
}
