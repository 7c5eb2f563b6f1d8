import type { Channel, DeferReason, DueVerdict } from '../workflows/definitions';
import type { Config } from '../src/config';
import type { Database, Executor } from '../src/db';
import { sql, type SQL } from 'drizzle-orm';
import { bucketsSaved, dueTimeContext, lockBuckets, type DueTimeContext } from '../src/db/recipients';
import { quietHoursEnd } from '../src/policy/quiet-hours';
import { nextTokenAt, throttleEnabled, tokensAt } from '../src/policy/throttle';

export interface DueCheckInput {
  notificationId: string;
  userId: string;
  type: string;
  category: string;
  channels: Channel[];
  expiresAt?: string;
}

export interface CheckDeps {
  db: Database;
  policy: Config['policy'];
  /** Injected so tests can pin "now"; the real clock otherwise. */
  now?: () => Date;
}

/**
 * A throttle verdict. Sending spends tokens: `spendTokens` is written with the SENDING transition, in
 * its statement and only if that transition is new, so a retried decision never spends twice.
 */
export interface ThrottleDecision {
  verdict: DueVerdict;
  spendTokens?: (isNew: SQL) => SQL;
}

/**
 * The checks at the due time, in this order: expiry → opt-out → recent activity → delivery switch →
 * quiet hours → recipient throttle. Time-zone maths happens here, never in workflow code.
 */
export function createDueChecks({ db, policy, now = () => new Date() }: CheckDeps) {
  /** No deferral outlives the notification: wake at its expiry at the latest, and expire then. */
  const deferral = (input: DueCheckInput, reason: DeferReason, until: Date): DueVerdict => {
    const expiry = input.expiresAt ? Date.parse(input.expiresAt) : Infinity;
    return { action: 'defer', reason, until: new Date(Math.min(until.getTime(), expiry)).toISOString() };
  };

  return {
    now,

    /** What every check but the throttle reads, with the recipient's active targets on `channels`. */
    async context(input: DueCheckInput, channels: readonly Channel[] = []): Promise<DueTimeContext> {
      const context = await dueTimeContext(db, input, channels);
      if (!context) throw new Error(`notification ${input.notificationId} has no row: it cannot be checked`);
      return context;
    },

    /** Every check but the throttle, on what `context` read. */
    verdictBeforeThrottle(input: DueCheckInput, context: DueTimeContext, at: Date): DueVerdict {
      const { prefs, typeSettings } = context;
      // A newer notification replaced this one; its supersede signal may have been lost, Postgres was not.
      if (context.replacedBy) return { action: 'cancel', reason: 'replaced', replacedBy: context.replacedBy };

      if (input.expiresAt && at.getTime() >= Date.parse(input.expiresAt)) return { action: 'expire' };

      // A mandatory category goes out whatever the recipient opted out of, even before it became mandatory.
      if (!context.categoryMandatory && prefs?.optedOutCategories.includes(input.category)) return { action: 'cancel', reason: 'opted_out' };

      const activeWindow = typeSettings?.activeWindowMinutes ?? policy.activeWindowMinutes;
      if (activeWindow > 0 && prefs?.lastActiveAt && at.getTime() - prefs.lastActiveAt.getTime() < activeWindow * 60_000) {
        return { action: 'cancel', reason: 'user_active' };
      }

      if (!context.deliveryEnabled || typeSettings?.deliveryEnabled === false) {
        return deferral(input, 'delivery_off', new Date(at.getTime() + policy.deliveryOffRecheckMs));
      }

      // Without a time zone of their own, a recipient's quiet hours (and the channels') are read in UTC.
      const timeZone = prefs?.timeZone ?? 'UTC';
      const quietUntil = (windows: Array<{ start: string; end: string }>) => {
        const ends = windows.map((w) => quietHoursEnd(at, timeZone, w)).filter((end): end is Date => end !== null);
        return ends.length === 0 ? undefined : new Date(Math.max(...ends.map((end) => end.getTime())));
      };
      // The recipient's own quiet hours first, then those of the notification's channels: one message, held until all are over.
      for (const [reason, until] of [
        ['quiet_hours', quietUntil(prefs?.quietHours ? [prefs.quietHours] : [])],
        ['channel_quiet_hours', quietUntil(context.channelQuietHours.map((c) => c.quietHours))],
      ] as const) {
        if (!until) continue;
        if (context.quietHoursPolicy === 'drop') return { action: 'cancel', reason: 'quiet_hours_drop' };
        if (context.quietHoursPolicy === 'defer') return deferral(input, reason, until);
      }
      return { action: 'send' };
    },

    /**
     * The recipient throttle: one token per channel, all or none, so a deferred notification consumes
     * nothing. The buckets stay locked until `tx` ends; tokens are spent only through `spendTokens`.
     */
    async throttle(tx: Executor, input: DueCheckInput, at: Date): Promise<ThrottleDecision> {
      const rule = policy.throttle;
      if (!throttleEnabled(rule)) return { verdict: { action: 'send' } };
      const buckets = await lockBuckets(tx, input.userId, input.channels, { tokens: rule.burst, at });
      const available = input.channels.map((channel) => ({
        channel,
        tokens: tokensAt(
          buckets.find((b) => b.channel === channel),
          at,
          rule,
        ),
      }));
      const empty = available.filter((a) => a.tokens < 1);
      if (empty.length > 0) {
        const until = Math.max(...empty.map((a) => nextTokenAt(a.tokens, at, rule).getTime()));
        return { verdict: deferral(input, 'throttled', new Date(until)) };
      }
      const spent = available.map(({ channel, tokens }) => ({ channel, tokens: tokens - 1 }));
      return { verdict: { action: 'send' }, spendTokens: bucketsSaved(input.userId, spent, at) };
    },
  };
}

export type DueChecks = ReturnType<typeof createDueChecks>;

/** The first workflow version's checks activity: decides, and spends throttle tokens, without recording. */
export function createCheckActivities(deps: CheckDeps) {
  const checks = createDueChecks(deps);
  return {
    async evaluateDueChecks(input: DueCheckInput): Promise<DueVerdict> {
      const at = checks.now();
      const verdict = checks.verdictBeforeThrottle(input, await checks.context(input), at);
      if (verdict.action !== 'send') return verdict;
      return deps.db.transaction(async (tx) => {
        const throttled = await checks.throttle(tx, input, at);
        if (throttled.spendTokens) await tx.execute(throttled.spendTokens(sql`true`));
        return throttled.verdict;
      });
    },
  };
}
