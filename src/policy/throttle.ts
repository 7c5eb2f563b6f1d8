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

/**
 * The admission check of a type that refuses recipients over the limit: a new notification needs a
 * token on each of its channels beyond those that the recipient's `pending` notifications (due within
 * the hour) will take first. Undefined when it fits; otherwise the milliseconds until the buckets
 * will have refilled enough.
 */
export function admissionWait(buckets: Array<Bucket | undefined>, pending: number, now: Date, rule: ThrottleRule): number | undefined {
  const wanted = pending + 1;
  const wait = Math.max(...buckets.map((bucket) => Math.ceil((Math.max(0, wanted - tokensAt(bucket, now, rule)) / rule.perHour) * 3_600_000)));
  return wait > 0 ? wait : undefined;
}
