import type { DeadLetterFilterInput } from '../workflows/definitions';
import type { Database } from '../src/db';
import { deadLetterFilterOf, deadLetterIds, type OperatorNote } from '../src/db/dead-letters';
import { safeError, type Logger } from '../src/logger';
import { discardNotification, redriveNotification } from '../src/notifications/dead-letters';
import type { DeliveryReporter } from '../src/reports';
import type { TemporalGateway } from '../src/temporal/gateway';

export interface DeadLetterStep {
  action: 'redrive' | 'discard';
  filter: DeadLetterFilterInput;
  note: OperatorNote;
  scheduledAt?: string;
  /** Ids this operation failed on before: not taken again. */
  skip: string[];
  max: number;
}

/** One step of a bulk dead-letter operation (workflows/dead-letter-batch.ts). */
export function createDeadLetterActivities({ db, temporal, reporter, log }: { db: Database; temporal: TemporalGateway; reporter: DeliveryReporter; log: Logger }) {
  return {
    /** Redrives or discards up to `max` of the oldest matching dead letters, the same way the single routes do. */
    async actOnDeadLetters(step: DeadLetterStep): Promise<{ matched: number; done: number; failed: string[] }> {
      const ids = await deadLetterIds(db, deadLetterFilterOf(step.filter, { exceptIds: step.skip }), step.max);
      let done = 0;
      const failed: string[] = [];
      for (const id of ids) {
        try {
          if (step.action === 'redrive') await redriveNotification({ db, temporal, reporter }, id, { ...step.note, scheduledAt: step.scheduledAt });
          else await discardNotification({ db, temporal, reporter }, id, step.note);
          done++;
        } catch (err) {
          // A notification moved by someone else meanwhile (409), or a database hiccup: skip it, report it.
          log.warn({ err: safeError(err), notificationId: id, action: step.action }, 'bulk dead-letter operation could not handle one notification');
          failed.push(id);
        }
      }
      return { matched: ids.length, done, failed };
    },
  };
}
