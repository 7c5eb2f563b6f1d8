// T1's one activity: POST {id} to the benchmark's sink, as a webhook delivery would.

export function createT1Activities(sinkUrl: string) {
  return {
    async deliver(id: string): Promise<void> {
      const response = await fetch(sinkUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      // A failed POST fails the attempt, and Temporal retries it.
      if (!response.ok) throw new Error(`sink answered HTTP ${response.status}`);
    },
  };
}

export type T1Activities = ReturnType<typeof createT1Activities>;
