import { Sema } from 'async-sema';
import type { Channel } from '../workflows/definitions';

/** A channel's sending limits in one worker (SEND_<CHANNEL>_MAX_CONCURRENT and _MAX_PER_SECOND). */
export interface ChannelLimits {
  maxConcurrent: number;
  maxPerSecond?: number;
}

/**
 * The sends one worker makes at once, per channel. Send activities on the channel's task queue and
 * the first attempts that V7 makes inside a workflow task draw on the same permits, so
 * SEND_<CHANNEL>_MAX_CONCURRENT bounds both together.
 */
export interface SendPermits {
  /** Waits for a permit; resolves to its release. A send activity already holds a slot of the channel's queue, so it waits only while first attempts made inside workflow tasks hold permits. */
  acquire(channel: Channel): Promise<() => void>;
  /**
   * A permit for a first attempt inside a workflow task, or undefined when there is none to spare
   * right now: every permit in use, `inlinePerChannel` of them already inside workflow tasks, or a
   * rate cap on the channel (which only its task queue enforces). The caller then sends from the
   * channel's task queue, where the attempt waits its turn like any other send.
   */
  tryInline(channel: Channel): (() => void) | undefined;
}

/** Unlimited, for activities built without limits (unit tests and tools): every permit is granted at once. */
export const UNLIMITED_SEND_PERMITS: SendPermits = { acquire: async () => () => {}, tryInline: () => () => {} };

export function createSendPermits(limits: Record<Channel, ChannelLimits> | undefined, inlinePerChannel: number): SendPermits {
  if (!limits) return UNLIMITED_SEND_PERMITS;
  const permits = new Map<Channel, Sema>();
  const inline = new Map<Channel, number>();
  const semaFor = (channel: Channel) => {
    let sema = permits.get(channel);
    // async-sema allocates one token per permit up front: every channel has its finite limit.
    if (!sema) permits.set(channel, (sema = new Sema(limits[channel].maxConcurrent)));
    return sema;
  };
  return {
    async acquire(channel) {
      const sema = semaFor(channel);
      await sema.acquire();
      return once(() => sema.release());
    },
    tryInline(channel) {
      if (limits[channel].maxPerSecond) return undefined;
      const inside = inline.get(channel) ?? 0;
      const sema = semaFor(channel);
      if (inside >= inlinePerChannel || sema.tryAcquire() === undefined) return undefined;
      inline.set(channel, inside + 1);
      return once(() => {
        inline.set(channel, (inline.get(channel) ?? 1) - 1);
        sema.release();
      });
    },
  };
}

function once(release: () => void): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}
