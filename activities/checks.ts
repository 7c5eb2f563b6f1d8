import type { Channel, DeferReason, DueVerdict } from '../workflows/definitions';
import type { Config } from '../src/config';
import type { Database } from '../src/db';
import { findNotification } from '../src/db/notifications';
import {
  deliveryEnabled,
  findPreferences,
  findTypeSettings,
  lockBuckets,
  quietHoursPolicy,
  saveBucket,
} from '../src/db/recipients';
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
 * The checks at the due time, in DESIGN.md's order: expiry → opt-out → recent activity → delivery
 * switch → quiet hours → recipient throttle. Time-zone maths happens here, never in workflow code.
 */
export function createCheckActivities({ db, policy, now = () => new Date() }: CheckDeps) {
  return {
    async evaluateDueChecks(input: DueCheckInput): Promise<DueVerdict> {
      const at = now();
      // No deferral outlives the notification: wake at its expiry at the latest, and expire then.
      const defer = (reason: DeferReason, until: Date): DueVerdict => {
        const expiry = input.expiresAt ? Date.parse(input.expiresAt) : Infinity;
        return { action: 'defer', reason, until: new Date(Math.min(until.getTime(), expiry)).toISOString() };
      };
      const [row, prefs, typeSettings] = await Promise.all([
        findNotification(db, input.notificationId),
        findPreferences(db, input.userId),
        findTypeSettings(db, input.type),
      ]);
      // A newer notification replaced this one; its supersede signal may have been lost, Postgres was not.
      if (row?.replacedBy) return { action: 'cancel', reason: 'replaced', replacedBy: row.replacedBy };

      if (input.expiresAt && at.getTime() >= Date.parse(input.expiresAt)) return { action: 'expire' };

      if (prefs?.optedOutCategories.includes(input.category)) return { action: 'cancel', reason: 'opted_out' };

      const activeWindow = typeSettings?.activeWindowMinutes ?? policy.activeWindowMinutes;
      if (activeWindow > 0 && prefs?.lastActiveAt && at.getTime() - prefs.lastActiveAt.getTime() < activeWindow * 60_000) {
        return { action: 'cancel', reason: 'user_active' };
      }

      if (!(await deliveryEnabled(db)) || typeSettings?.deliveryEnabled === false) {
        return defer('delivery_off', new Date(at.getTime() + policy.deliveryOffRecheckMs));
      }

      if (prefs?.quietHours) {
        // Without a time zone of their own, a recipient's quiet hours are read in UTC.
        const end = quietHoursEnd(at, prefs.timeZone ?? 'UTC', prefs.quietHours);
        if (end) {
          const handling = await quietHoursPolicy(db, input.category);
          if (handling === 'drop') return { action: 'cancel', reason: 'quiet_hours_drop' };
          if (handling === 'defer') return defer('quiet_hours', end);
        }
      }

      return takeThrottleTokens(input, at, defer);
    },
  };

  /** Takes one token per channel, all or none, so a deferred notification consumes nothing. */
  async function takeThrottleTokens(input: DueCheckInput, at: Date, defer: (r: DeferReason, until: Date) => DueVerdict): Promise<DueVerdict> {
    const rule = policy.throttle;
    if (!throttleEnabled(rule)) return { action: 'send' };
    return db.transaction(async (tx) => {
      const buckets = await lockBuckets(tx, input.userId, input.channels, { tokens: rule.burst, at });
      const available = input.channels.map((channel) => {
        const bucket = buckets.find((b) => b.channel === channel);
        return { channel, tokens: tokensAt(bucket, at, rule) };
      });
      const empty = available.filter((a) => a.tokens < 1);
      if (empty.length > 0) {
        const until = Math.max(...empty.map((a) => nextTokenAt(a.tokens, at, rule).getTime()));
        return defer('throttled', new Date(until));
      }
      for (const { channel, tokens } of available) await saveBucket(tx, input.userId, channel, tokens - 1, at);
      return { action: 'send' } satisfies DueVerdict;
    });
  }
}
