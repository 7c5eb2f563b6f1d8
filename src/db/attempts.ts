import { deliveryAttempts } from '../../drizzle/schema';
import type { Executor } from './index';

export type AttemptRow = typeof deliveryAttempts.$inferSelect;
export type NewAttempt = Omit<typeof deliveryAttempts.$inferInsert, 'id' | 'finishedAt'>;

export async function recordAttempt(db: Executor, attempt: NewAttempt): Promise<void> {
  await db.insert(deliveryAttempts).values({ ...attempt, finishedAt: new Date() });
}
