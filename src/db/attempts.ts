import { deliveryAttempts } from '../../drizzle/schema';
import type { Executor } from './index';

export type AttemptRow = typeof deliveryAttempts.$inferSelect;
export type NewAttempt = Omit<typeof deliveryAttempts.$inferInsert, 'id' | 'finishedAt'>;

/** The insert of one attempt-log row, to run on its own or inside another statement. */
export const attemptInsert = (db: Executor, attempt: NewAttempt) => db.insert(deliveryAttempts).values({ ...attempt, finishedAt: new Date() });

export async function recordAttempt(db: Executor, attempt: NewAttempt): Promise<void> {
  await attemptInsert(db, attempt);
}
