/**
 * Quiet hours: a daily window, in the recipient's local wall-clock time, during which notifications are held
 * back. Pure functions on top of luxon's time-zone data; they belong in activities, never in workflow code.
 *
 * Semantics (start/end are local "HH:MM", 24h, in the recipient's IANA zone):
 * - start < end (e.g. 13:00–15:00): quiet from start to end on the same local day.
 * - start > end (e.g. 22:00–08:00): the window crosses midnight: quiet from start until `end` on the next local
 *   day, i.e. when local time >= start OR local time < end. The window ends at the next occurrence of `end`
 *   (today when the local time is before `end`, otherwise tomorrow).
 * - start == end: no quiet hours.
 * - The window is half-open: an instant exactly at `start` is quiet, an instant exactly at `end` is not.
 *
 * Each local day has (at most) one window, anchored on the local date of its start. Its boundaries are turned
 * into UTC instants, and an instant is quiet when it lies in [startInstant, endInstant). On days without a
 * daylight-saving change this is exactly the wall-clock comparison "start <= local time < end". Around a change
 * the wall-clock times are resolved explicitly:
 * - A time that does not exist (spring-forward gap, e.g. 02:30 in Europe/Berlin on 2027-03-28) resolves to the
 *   first instant after the gap (03:00 CEST). The window therefore ends as soon as the local clock shows a time
 *   past `end`; luxon's default would shift the time by the gap length (03:30 CEST) and keep the recipient quiet
 *   for half an hour while their clock already reads past the end. A start inside the gap likewise begins the
 *   window at the first instant after the gap.
 * - A time that occurs twice (fall-back overlap, e.g. 02:30 in Europe/Berlin on 2027-10-31) resolves to the
 *   EARLIER occurrence, for both boundaries. For `end` this means the window does not run an extra hour: the
 *   recipient sees `end` on their clock once, and we release at that moment. For `start` it means the window
 *   begins the first time the clock shows `start` and then stays quiet through the repeated hour (a pure
 *   wall-clock comparison would instead open a hole when the clock jumps back before `start`).
 * luxon's own handling of an ambiguous time depends on the offset in force at the moment the code runs
 * (summer vs winter), so it is not used for resolution: results here never depend on the current date.
 */
import { DateTime, IANAZone } from 'luxon';

/** Local wall-clock "HH:MM" (24h) in the recipient's IANA zone. */
export interface QuietHours {
  start: string;
  end: string;
}

export const CLOCK_TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** True for a time-zone name luxon (and the runtime's ICU data) knows, e.g. "Europe/Berlin". */
export function isValidTimeZone(zone: string): boolean {
  return typeof zone === 'string' && zone.length > 0 && IANAZone.isValidZone(zone);
}

/** True for a zero-padded 24h "HH:MM" from 00:00 to 23:59 ("07:05" yes; "7:5", "24:00", "07:05:00" no). */
export function isValidClockTime(value: string): boolean {
  return typeof value === 'string' && CLOCK_TIME.test(value);
}

/**
 * When `instant` falls inside the recipient's quiet window, the UTC instant at which that window ends;
 * otherwise null (also when start == end: no quiet hours).
 * @throws RangeError for an invalid Date, an unknown time zone or a malformed clock time.
 */
export function quietHoursEnd(instant: Date, timeZone: string, quiet: QuietHours): Date | null {
  const at = instant instanceof Date ? instant.getTime() : Number.NaN;
  if (!Number.isFinite(at)) throw new RangeError('quietHoursEnd: instant is not a valid Date');
  if (!isValidTimeZone(timeZone)) throw new RangeError(`quietHoursEnd: unknown time zone "${timeZone}"`);
  if (!isValidClockTime(quiet.start) || !isValidClockTime(quiet.end)) {
    throw new RangeError(`quietHoursEnd: quiet hours must be "HH:MM"–"HH:MM", got "${quiet.start}"–"${quiet.end}"`);
  }
  const start = minutesOfDay(quiet.start);
  const end = minutesOfDay(quiet.end);
  if (start === end) return null;

  const zone = IANAZone.create(timeZone);
  const local = DateTime.fromMillis(at, { zone });
  // The local calendar date of the instant, as a UTC midnight (plain calendar arithmetic, no zone involved).
  const today = Date.UTC(local.year, local.month - 1, local.day);
  const endDayOffset = start < end ? 0 : 1; // a window crossing midnight ends on the day after it starts

  // Windows anchored on yesterday, today and tomorrow: yesterday's carries a crossing window past midnight;
  // tomorrow's only matters where a transition moves the local date backwards across midnight.
  let result: number | null = null;
  for (const anchor of [today - DAY_MS, today, today + DAY_MS]) {
    const from = resolveWallClock(zone, anchor + start * MINUTE_MS);
    const until = resolveWallClock(zone, anchor + endDayOffset * DAY_MS + end * MINUTE_MS);
    if (from <= at && at < until && (result === null || until > result)) result = until;
  }
  return result === null ? null : new Date(result);
}

function minutesOfDay(clock: string): number {
  return Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
}

/**
 * The UTC instant (ms) at which the zone's clocks show `wallClock` (a local date-time encoded as if it were UTC
 * ms). Ambiguous → the earlier occurrence; non-existent (gap) → the first instant after the gap.
 */
function resolveWallClock(zone: IANAZone, wallClock: number): number {
  // Every offset in force within a day and a half either side; UTC offsets stay within ±14h, so a valid
  // instant for this wall-clock time must use one of them.
  const offsets = new Set<number>();
  for (const delta of [-36, -12, 0, 12, 36]) offsets.add(zone.offset(wallClock + delta * HOUR_MS));

  let earliest: number | null = null;
  for (const offset of offsets) {
    const candidate = wallClock - offset * MINUTE_MS;
    if (zone.offset(candidate) === offset && (earliest === null || candidate < earliest)) earliest = candidate;
  }
  if (earliest !== null) return earliest;

  // A gap: the clock jumps over `wallClock`. Find the first instant whose local time is at or past it; local
  // time only moves forward across a gap, so a binary search over the bracketing instants is exact (to the ms).
  const sorted = [...offsets].sort((a, b) => a - b);
  let lo = wallClock - sorted[sorted.length - 1] * MINUTE_MS; // before the jump
  let hi = wallClock - sorted[0] * MINUTE_MS; // after the jump
  const reached = (t: number) => t + zone.offset(t) * MINUTE_MS >= wallClock;
  if (reached(lo)) return lo;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
