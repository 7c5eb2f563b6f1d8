export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON call against the API under test; never throws on an HTTP error status. */
export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ApiResponse<T>> {
  const hasJson = options.body !== undefined;
  const response = await fetch(baseUrl + path, {
    method,
    headers: { ...(hasJson ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: hasJson ? JSON.stringify(options.body) : options.raw,
    signal: options.signal,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

export interface EventuallyOptions<T> {
  /** What is awaited, for the error message: "notification ntf_… to reach DELIVERED". */
  what?: string;
  timeoutMs?: number;
  /** How the last value reads in the error message; JSON (shortened) by default. */
  show?: (value: T) => string;
}

const shorten = (text: string, max = 2000) => (text.length > max ? `${text.slice(0, max)}…` : text);

export function showValue(value: unknown): string {
  if (typeof value === 'string') return shorten(value);
  try {
    return shorten(JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

/**
 * Polls `probe` until `done` holds and returns that value; throws when the time is up, naming what
 * was awaited and the last value seen, so a test can never pass by waiting for something that never happened.
 */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, options: EventuallyOptions<T> = {}): Promise<T> {
  const { what = 'a condition', timeoutMs = 30_000, show = showValue } = options;
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value)) {
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}; last seen: ${show(value)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
    value = await probe();
  }
  return value;
}
