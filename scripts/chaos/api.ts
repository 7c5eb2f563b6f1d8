// Herald's API as the chaos scenarios call it: every answer is tallied, so a scenario can report the
// 5xx it saw and how long the slowest answer took while a dependency was away.
import { assertChildrenAlive } from '../bench/children';
import { mapLimit, sleep, waitUntil } from '../bench/timing';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

/** What the API answered during a scenario. A status of 0 means no answer: refused, reset or timed out. */
export interface Tally {
  answers: number;
  /** 5xx other than 503: never acceptable. */
  serverErrors: number;
  /** 503 without Retry-After: a client cannot tell when to come back. */
  unavailableWithoutRetryAfter: number;
  unavailable: number;
  /** No HTTP answer within the client's patience. */
  noAnswer: number;
  slowestMs: number;
  /** The first few bad answers, for the report. */
  examples: string[];
}

export const TERMINAL = ['DELIVERED', 'FAILED', 'CANCELLED', 'EXPIRED'];

export class Api {
  readonly tally: Tally = { answers: 0, serverErrors: 0, unavailableWithoutRetryAfter: 0, unavailable: 0, noAnswer: 0, slowestMs: 0, examples: [] };
  private counter = 0;

  constructor(
    public url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const started = Date.now();
    const t = this.tally;
    const note = (what: string) => t.examples.length < 5 && t.examples.push(`${method} ${path}: ${what}`);
    let answer: Answer;
    try {
      const response = await fetch(this.url + path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: kept as text
      }
      answer = { status: response.status, headers: response.headers, body: parsed, ms: Date.now() - started };
    } catch (err) {
      answer = { status: 0, headers: new Headers(), body: String((err as Error).cause ?? err), ms: Date.now() - started };
    }
    t.answers++;
    t.slowestMs = Math.max(t.slowestMs, answer.ms);
    if (answer.status === 0) {
      t.noAnswer++;
      note(`no answer after ${answer.ms} ms (${answer.body})`);
    } else if (answer.status === 503) {
      t.unavailable++;
      if (!answer.headers.get('retry-after')) {
        t.unavailableWithoutRetryAfter++;
        note('503 without Retry-After');
      }
    } else if (answer.status >= 500) {
      t.serverErrors++;
      note(`${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    }
    return answer;
  }

  registerWebhook(userId: string, url: string) {
    return this.call('POST', `/v1/users/${userId}/webhooks`, { url });
  }

  create(body: Record<string, unknown>, key = `chaos-${Date.now()}-${++this.counter}-${Math.random().toString(36).slice(2)}`) {
    return this.call('POST', '/v1/notifications', body, { 'Idempotency-Key': key });
  }

  get(id: string) {
    return this.call('GET', `/v1/notifications/${id}`);
  }

  /**
   * Waits until every notification has reached a terminal state in Postgres, and returns each
   * one's detail; throws naming those still pending after `timeoutMs`.
   */
  async settle(ids: readonly string[], timeoutMs: number): Promise<Map<string, any>> {
    const done = new Map<string, any>();
    await waitUntil(
      `${ids.length} notifications to reach a terminal state`,
      async () => {
        assertChildrenAlive();
        const open = ids.filter((id) => !done.has(id));
        await mapLimit(open, 10, async (id) => {
          const r = await this.get(id);
          if (r.status === 200 && TERMINAL.includes(r.body.status)) done.set(id, r.body);
        });
        if (done.size === ids.length) return true;
        await sleep(1000);
        return undefined;
      },
      { timeoutMs, intervalMs: 0 },
    ).catch((err: Error) => {
      const pending = ids.filter((id) => !done.has(id));
      throw new Error(`${err.message}: ${pending.length} still pending, e.g. ${pending.slice(0, 3).join(', ')}`);
    });
    return done;
  }
}
