import { call, eventually, showValue, type ApiResponse } from './http';
import { startTestStack, type TestStack } from './stack';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

export const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

/** A notification as a failure message should show it: status, reason and the transition log. */
export function describeNotification(response: ApiResponse): string {
  const detail = response.body;
  if (response.status !== 200 || !Array.isArray(detail?.transitions)) return `HTTP ${response.status} ${showValue(detail)}`;
  const live = detail.live ? `, live ${showValue(detail.live)}` : '';
  return `${detail.status}(${detail.statusReason ?? ''}), transitions [${statusesOf(detail).join(', ')}]${live}`;
}

/** Small helpers that read like what a client of the API does; with `apiKey`, every call carries it. */
export function client(stack: Pick<TestStack, 'url'>, { apiKey }: { apiKey?: string } = {}) {
  let counter = 0;
  const auth: Record<string, string> = apiKey ? { 'x-api-key': apiKey } : {};
  const send = (method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) =>
    call(stack.url, method, path, { ...options, headers: { ...auth, ...options.headers } });
  const api = {
    create: (body: Record<string, unknown>, key = `key-${Date.now()}-${++counter}-${Math.random()}`) =>
      send('POST', '/v1/notifications', { body, headers: { 'Idempotency-Key': key } }),
    get: (id: string) => send('GET', `/v1/notifications/${id}`),
    cancel: (id: string) => send('DELETE', `/v1/notifications/${id}`),
    patch: (id: string, body: Record<string, unknown>) => send('PATCH', `/v1/notifications/${id}`, { body }),
    put: (path: string, body: unknown) => send('PUT', path, { body }),
    /** PATCH of any API path; `patch` is the notification's. */
    patchPath: (path: string, body: unknown) => send('PATCH', path, { body }),
    post: (path: string, body: unknown) => send('POST', path, { body }),
    /** GET of any API path (query string included). */
    read: (path: string) => send('GET', path),
    list: (query: string) => send('GET', `/v1/notifications?${query}`),
    targets: (userId: string) => send('GET', `/v1/users/${userId}/targets`),
    registerWebhook: (userId: string, url: string) => send('POST', `/v1/users/${userId}/webhooks`, { body: { url } }),
    /**
     * Waits until the notification's detail satisfies `done` and returns it; throws on timeout with
     * `what` and the last status and transitions seen.
     */
    async waitUntil(id: string, done: (detail: any) => boolean, what: string, timeoutMs = 30_000) {
      const r = await eventually(
        () => api.get(id),
        (x) => x.status === 200 && done(x.body),
        { what: `notification ${id} ${what}`, timeoutMs, show: describeNotification },
      );
      return r.body;
    },
    /** Waits until the notification reaches one of `statuses` and returns its detail; throws if it does not within 30 s. */
    waitFor(id: string, ...statuses: string[]) {
      return api.waitUntil(id, (detail) => statuses.includes(detail.status), `to reach ${statuses.join(' or ')}`);
    },
  };
  return api;
}

/** The transition log of a notification that failed on two 500s, was redriven, and was delivered. */
export const FAILED_REDRIVEN_DELIVERED = ['SCHEDULED(accepted)', 'SENDING', 'FAILED(all_targets_failed)', 'SCHEDULED(redriven)', 'SENDING', 'DELIVERED'];

/**
 * Creates a notification whose receiver answers 500 to both of its attempts (the stack must allow
 * two: RETRY_WEBHOOK_MAX_ATTEMPTS=2) and returns its id once it is FAILED.
 */
export async function createFailed(api: ReturnType<typeof client>, receiver: WebhookReceiver, body: Record<string, unknown>, key?: string): Promise<string> {
  receiver.respondWith({ status: 500 }, { status: 500 });
  const created = await api.create(body, key);
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${showValue(created.body)}`);
  const detail = await api.waitFor(created.body.id, 'FAILED', 'DELIVERED');
  if (detail.status !== 'FAILED') throw new Error(`${created.body.id} ended ${detail.status}, not FAILED`);
  return created.body.id;
}

export const statusesOf = (detail: { transitions: Array<{ to: string; reason: string | null }> }) =>
  detail.transitions.map((t) => (t.reason ? `${t.to}(${t.reason})` : t.to));

export interface WebhookWorld {
  stack: TestStack;
  receiver: WebhookReceiver;
  api: ReturnType<typeof client>;
  /** A fresh recipient with a webhook, so tests never see each other's notifications. */
  recipient(): Promise<string>;
}

type StackOptions = NonNullable<Parameters<typeof startTestStack>[0]>;

/**
 * Starts a stack and a webhook receiver around the enclosing describe block. `options` may be a
 * function, called when the stack starts: for settings only known then (another server's port).
 */
export function webhookWorld(userPrefix: string, options: StackOptions | (() => StackOptions) = {}): WebhookWorld {
  let users = 0;
  const world = {
    async recipient() {
      const userId = `${userPrefix}-${++users}`;
      await world.api.registerWebhook(userId, `${world.receiver.url}/${userId}`);
      return userId;
    },
  } as WebhookWorld;
  beforeAll(async () => {
    const resolved = typeof options === 'function' ? options() : options;
    world.stack = await startTestStack(resolved);
    world.receiver = await startWebhookReceiver();
    // A stack that requires API keys gets a client that sends the first one.
    world.api = client(world.stack, { apiKey: resolved.env?.API_KEYS?.split(',')[0] });
  });
  afterAll(async () => {
    await world.stack?.stop();
    await world.receiver?.close();
  });
  return world;
}
