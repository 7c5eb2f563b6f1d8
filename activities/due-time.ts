import type { DeferReason, DueVerdict } from '../workflows/definitions';
import type { Database } from '../src/db';
import { applyTransition, findTransition, type TransitionRecord } from '../src/db/notifications';
import type { DeliveryReporter } from '../src/reports';
import { createDueChecks, type CheckDeps, type DueCheckInput } from './checks';
import { planDelivery, type DeliveryDeps, type DeliveryPlan } from './delivery';

export interface DueTimeInput extends DueCheckInput {
  /** The sequence number this decision is recorded under (the workflow's last recorded one + 1). */
  seq: number;
  /** Where the notification stands now: a repeated deferral for the same reason records nothing. */
  status: 'SCHEDULED' | 'DEFERRED';
  deferReason?: DeferReason;
}

/** The verdict, already written to Postgres when `recorded`; `send` carries the delivery plan. */
export type DueTimeDecision = (
  | { action: 'send'; plan: DeliveryPlan }
  | Exclude<DueVerdict, { action: 'send' }>
) & { recorded: boolean; at: string };

/**
 * One local activity at the due time: runs the checks, records the outcome (SENDING, DEFERRED,
 * CANCELLED or EXPIRED) and, for SENDING, spends the throttle tokens and plans the targets — all in
 * one transaction. Once this returns "send", the notification is SENDING in Postgres and nothing can
 * undo that, so a cancel that arrives later is answered "too late" and never wastes a token.
 */
export function createDueTimeActivities(deps: CheckDeps & Pick<DeliveryDeps, 'adapters' | 'retry'> & { reporter: DeliveryReporter }) {
  const checks = createDueChecks(deps);
  const { db } = deps;

  return {
    async decideAtDueTime(input: DueTimeInput): Promise<DueTimeDecision> {
      const at = checks.now();
      let recordedNow: TransitionRecord | undefined;
      const [firstVerdict, plan] = await Promise.all([
        checks.verdictBeforeThrottle(input, at),
        planDelivery(deps, input.userId, input.channels),
      ]);
      const decision = await db.transaction(async (tx): Promise<DueTimeDecision> => {
        const throttled = firstVerdict.action === 'send' ? await checks.throttle(tx, input, at) : undefined;
        const verdict = throttled?.verdict ?? firstVerdict;
        const unchanged = verdict.action === 'defer' && input.status === 'DEFERRED' && input.deferReason === verdict.reason;
        if (!unchanged && !(await applyTransition(tx, transitionFor(input, verdict, at)))) {
          // An earlier attempt of this activity committed (its result was lost with a worker): answer what it decided.
          return replayedDecision(db, input, plan);
        }
        if (verdict.action === 'send') await throttled!.spendTokens();
        const decided = { recorded: !unchanged, at: at.toISOString() };
        if (decided.recorded) recordedNow = transitionFor(input, verdict, at);
        return verdict.action === 'send' ? { action: 'send', plan, ...decided } : { ...verdict, ...decided };
      });
      // Reported once committed: a transaction rolled back never reaches the platform.
      if (recordedNow) deps.reporter.transitionRecorded(recordedNow);
      return decision;
    },
  };
}

function transitionFor(input: DueTimeInput, verdict: DueVerdict, at: Date): TransitionRecord {
  const base = { notificationId: input.notificationId, seq: input.seq, from: input.status, at: at.toISOString() };
  switch (verdict.action) {
    case 'send':
      return { ...base, to: 'SENDING' };
    case 'defer':
      return { ...base, to: 'DEFERRED', reason: verdict.reason, details: { until: verdict.until } };
    case 'expire':
      return { ...base, to: 'EXPIRED', reason: 'expired', details: { expiresAt: input.expiresAt } };
    case 'cancel':
      return {
        ...base,
        to: 'CANCELLED',
        reason: verdict.reason,
        details: verdict.replacedBy ? { replacedBy: verdict.replacedBy } : undefined,
        replacedBy: verdict.replacedBy,
      };
  }
}

async function replayedDecision(db: Database, input: DueTimeInput, plan: DeliveryPlan): Promise<DueTimeDecision> {
  const row = await findTransition(db, input.notificationId, input.seq);
  if (!row) throw new Error(`transition ${input.seq} of ${input.notificationId} vanished`);
  const decided = { recorded: true, at: row.at.toISOString() };
  const details = (row.details ?? {}) as { until?: string; replacedBy?: string };
  switch (row.toStatus) {
    case 'SENDING':
      return { action: 'send', plan, ...decided };
    case 'DEFERRED':
      return { action: 'defer', reason: row.reason as DeferReason, until: details.until!, ...decided };
    case 'EXPIRED':
      return { action: 'expire', ...decided };
    case 'CANCELLED':
      return { action: 'cancel', reason: row.reason as 'replaced', replacedBy: details.replacedBy, ...decided };
    default:
      throw new Error(`transition ${input.seq} of ${input.notificationId} is ${row.toStatus}, not a due-time decision`);
  }
}
