// A token bucket per recipient × channel: `burst` sends at once, refilled at `perHour` tokens an hour.

export interface ThrottleRule {
  burst: number;
  perHour: number;
}
export interface Bucket {
  tokens: number;
  updatedAt: Date;
}

/** Tokens available at `now`; a recipient never seen before starts with a full bucket. */
export function tokensAt(bucket: Bucket | undefined, now: Date, rule: ThrottleRule): number {
  if (!bucket) return rule.burst;
  const elapsedHours = Math.max(0, now.getTime() - bucket.updatedAt.getTime()) / 3_600_000;
  return Math.min(rule.burst, bucket.tokens + elapsedHours * rule.perHour);
}

/** When the bucket, holding `tokens` at `now`, next has a whole token. */
export function nextTokenAt(tokens: number, now: Date, rule: ThrottleRule): Date {
  if (tokens >= 1) return now;
  return new Date(now.getTime() + Math.ceil(((1 - tokens) / rule.perHour) * 3_600_000));
}

export const throttleEnabled = (rule: ThrottleRule) => rule.burst > 0 && rule.perHour > 0;
