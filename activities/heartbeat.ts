import { Context } from '@temporalio/activity';

/** The first heartbeat comes this late, so a send that takes the usual few milliseconds never sends one. */
const FIRST_BEAT_AFTER_MS = 2_000;

/**
 * Runs `work` inside the current activity, heartbeating while it takes longer than a moment, so the
 * server notices within `SEND_HEARTBEAT_TIMEOUT_MS` when the worker running it is gone.
 */
export async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  // A local activity has no heartbeat: the worker keeps its workflow task alive while it runs.
  if (context.info.isLocal) return work();
  let beat: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    context.heartbeat();
    beat = setInterval(() => context.heartbeat(), FIRST_BEAT_AFTER_MS);
  }, FIRST_BEAT_AFTER_MS);
  try {
    return await work();
  } finally {
    clearTimeout(first);
    clearInterval(beat);
  }
}
