// What T1's activity and the BullMQ worker do to deliver: POST {id} to the sink. One function, so
// the two peers pay exactly the same delivery cost.

/** Throws on a non-2xx answer, so the caller's retry policy applies. */
export async function postToSink(sinkUrl: string, id: string): Promise<void> {
  const response = await fetch(sinkUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`sink answered HTTP ${response.status}`);
}
