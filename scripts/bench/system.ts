// What the figures need from a system under test. T1, Herald and BullMQ each implement this, and
// one burst runner, one open-loop runner and one sleeping test drive all of them the same way.

export interface BenchSystem {
  /** Name in the tables: T1, Herald, BullMQ. */
  name: string;
  /**
   * Makes room for `n` deliveries created next, in slots 0..n-1 (Herald: recipients whose throttle
   * still has tokens). Runs before any timing starts.
   */
  prepare?(n: number): Promise<void>;
  /**
   * Creates one item due at `dueAt` (epoch ms) and returns the id the sink will receive. `key` is
   * unique per item and stable across retries, so creating again is safe. `slot` is the item's
   * index in the prepared batch; undefined for items that will never come due (open loop).
   */
  create(key: string, dueAt: number, slot?: number): Promise<string>;
  /** The Temporal workflow id behind a sink id; undefined for systems that do not run on Temporal. */
  workflowId?(id: string): string;
  /**
   * Runs of this system still open on Temporal. A Temporal workflow has work left after its
   * delivery (recording the result, closing the run), and a burst is not over until that is done.
   */
  openRuns?(): Promise<number>;
  /** Removes items that will not come due during the run (open loop: due far ahead). */
  discard?(ids: string[]): Promise<void>;
  /** Processes whose memory and CPU the figures read, by role. */
  processes(): { role: string; pid: number }[];
}
