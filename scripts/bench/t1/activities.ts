// T1's one activity: POST {id} to the benchmark's sink, as a webhook delivery would.
import { postToSink } from '../sink-client';

export function createT1Activities(sinkUrl: string) {
  return {
    // A failed POST fails the attempt, and Temporal retries it.
    deliver: (id: string): Promise<void> => postToSink(sinkUrl, id),
  };
}

export type T1Activities = ReturnType<typeof createT1Activities>;
