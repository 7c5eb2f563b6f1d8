// T1: the cheapest workflow that does Herald's job — one durable timer until the due instant, then
// one activity that delivers. Nothing else: no database, no checks, no status, no search attributes.
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { T1Activities } from './activities';

// Default retry policy (retries until it succeeds), like a delivery that must not be lost.
const { deliver } = proxyActivities<T1Activities>({ startToCloseTimeout: '15s' });

/** `dueAt` is epoch milliseconds. */
export async function t1Notification(dueAt: number): Promise<void> {
  const wait = dueAt - Date.now();
  if (wait > 0) await sleep(wait);
  await deliver(workflowInfo().workflowId);
}
