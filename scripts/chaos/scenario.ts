// What every chaos scenario shares: its context, its result row, and the figures read off the
// receiver's log and Herald's records.
import type { Logger } from '../../src/logger';
import { mapLimit } from '../bench/timing';
import type { Api } from './api';
import type { Receiver } from './receiver';
import type { Temporal } from './world';

export interface ChaosContext {
  temporal: Temporal;
  runDir: string;
  logDir: string;
  repoRoot: string;
  workflowBundle: string;
  quick: boolean;
  log: Logger;
  say(line: string): void;
}

export interface Check {
  what: string;
  ok: boolean;
  detail?: string;
}

export interface ScenarioResult {
  scenario: string;
  load: string;
  faults: string;
  /** Accepted notifications that did not end as they should (no terminal record, or never received). */
  lost: number;
  /** Deliveries received more than once. */
  duplicates: number;
  /** API answers 500–599 other than 503. */
  serverErrors: number;
  /** Receive time − due time, worst case, ms. */
  maxLatenessMs?: number;
  checks: Check[];
  passed: boolean;
  seconds: number;
}

export interface Scenario {
  name: string;
  /** Runs in the CI preset (`--quick`) too, at the size it picks from `ctx.quick`. */
  run(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'passed' | 'seconds' | 'scenario'>>;
}

/** `count` recipients with one webhook each on `receiver`, named `<prefix>-<i>`; returns their ids. */
export async function recipients(api: Api, receiver: Receiver, prefix: string, count: number): Promise<string[]> {
  const users = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await mapLimit(users, 10, async (userId) => {
    const r = await api.registerWebhook(userId, `${receiver.url}/${userId}`);
    if (r.status !== 201 && r.status !== 200) throw new Error(`registering ${userId}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  });
  return users;
}

/** Creates one notification per due time, round-robin over `users`; throws unless every one is accepted. */
export async function createDue(api: Api, users: string[], dueTimes: number[]): Promise<Array<{ id: string; dueAt: number }>> {
  return mapLimit(dueTimes, 20, async (dueAt, i) => {
    const r = await api.create({ userId: users[i % users.length], channels: ['webhook'], scheduledAt: new Date(dueAt).toISOString(), content: { body: 'chaos' } });
    if (r.status !== 202) throw new Error(`create answered HTTP ${r.status}: ${JSON.stringify(r.body)}`);
    return { id: r.body.id as string, dueAt };
  });
}

/** `n` due times spread evenly over `windowMs` from `firstAt`. */
export const spreadOver = (n: number, firstAt: number, windowMs: number) => Array.from({ length: n }, (_, i) => firstAt + Math.floor((i * windowMs) / n));

export interface DeliveryFigures {
  lost: number;
  duplicates: number;
  /** Accepted deliveries received before their due time. */
  early: number;
  maxLatenessMs: number;
  /** Requests the receiver got for notifications this scenario did not create (a wrong webhook-id). */
  strangers: number;
}

/**
 * For notifications that should all be delivered: each must have ended DELIVERED in Postgres and
 * reached the receiver; a delivery is a request the receiver answered 2xx.
 */
export function deliveryFigures(notifications: Array<{ id: string; dueAt: number }>, details: Map<string, any>, receiver: Receiver, paths?: Set<string>): DeliveryFigures {
  const ids = new Set(notifications.map((n) => n.id));
  const accepted = receiver.arrivals.filter((a) => a.reply !== 'hang' && a.reply.status < 300);
  const byId = new Map<string, number[]>();
  for (const a of accepted) byId.set(a.id, [...(byId.get(a.id) ?? []), a.at]);
  let lost = 0;
  let duplicates = 0;
  let early = 0;
  let maxLatenessMs = 0;
  for (const n of notifications) {
    const times = byId.get(n.id) ?? [];
    if (details.get(n.id)?.status !== 'DELIVERED' || times.length === 0) lost++;
    duplicates += Math.max(0, times.length - 1);
    if (times.length > 0) {
      const first = Math.min(...times);
      if (first < n.dueAt) early++;
      maxLatenessMs = Math.max(maxLatenessMs, first - n.dueAt);
    }
  }
  const strangers = receiver.arrivals.filter((a) => !ids.has(a.id) && (!paths || paths.has(a.path))).length;
  return { lost, duplicates, early, maxLatenessMs, strangers };
}

export const check = (what: string, ok: boolean, detail?: string): Check => ({ what, ok, ...(detail ? { detail } : {}) });
