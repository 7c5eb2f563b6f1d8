import { Context } from '@temporalio/activity';
import type { NotificationInput } from '../workflows/definitions';
import type { Database } from '../src/db';
import { applyTransition, initialRow, insertNotification, type TransitionRecord } from '../src/db/notifications';
import { recordLateAttempts, type UnrecordedAttempt } from '../src/db/attempts';
import type { DeliveryReporter } from '../src/reports';

/** Postgres is the queryable projection of what the workflow decides; these write it. */
export function createRecordActivities({ db, reporter }: { db: Database; reporter: DeliveryReporter }) {
  return {
    /**
     * The workflow's first step. The API normally inserted the row already; if the API process died
     * between starting the workflow and committing, this creates it, so no notification goes unrecorded.
     */
    async recordAccepted(input: NotificationInput, at: string): Promise<void> {
      await insertNotification(db, initialRow(input));
      await applyTransition(db, { notificationId: input.notificationId, seq: 1, to: 'SCHEDULED', reason: 'accepted', at });
    },

    /** Attempt-log rows a send handed back because Postgres was down when it made them. */
    async recordLateAttempts(attempts: UnrecordedAttempt[]): Promise<void> {
      await recordLateAttempts(db, attempts);
    },

    async recordTransition(transition: TransitionRecord): Promise<void> {
      if (!(await applyTransition(db, transition))) return;
      reporter.transitionRecorded(transition);
      if (transition.to === 'FAILED') {
        Context.current().log.warn('notification FAILED: it waits in the dead-letter list (GET /v1/dlq) for a redrive or a discard', {
          notificationId: transition.notificationId,
          reason: transition.reason,
        });
      }
    },
  };
}
