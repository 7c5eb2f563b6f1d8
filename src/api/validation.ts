import { z } from 'zod';
import { CLOCK_TIME, isValidClockTime } from '../policy/quiet-hours';
import { isInstant } from '../../workflows/validate';
import { apiError } from './errors';

/** Parses `value` or throws a 400 naming each offending field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.output<S> {
  if (value === undefined && where === 'body') throw apiError(400, 'validation_failed', 'request body must be a JSON object');
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.flatMap(specific).map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : where,
    message: issue.message,
  }));
  const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
  throw apiError(400, 'validation_failed', `invalid ${where}: ${summary}`, details);
}

/**
 * A value that fits no branch of a union is reported by the branch that got inside it: an array of
 * channels with a wrong element names that element, not "an array, or the word preferred".
 */
function specific(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const inside = issue.errors.find((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
  return inside ? inside.map((i) => ({ ...i, path: [...issue.path, ...i.path] })).flatMap(specific) : [issue];
}

export const identifier = (what: string, max = 200) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(max, `${what} must be at most ${max} characters`)
    .regex(/^[A-Za-z0-9_.:@+-]+$/, `${what} may contain only letters, digits and _ . : @ + -`);

/** An ISO-8601 instant with a zone, normalised to UTC; years 1–9999, the range Postgres and ISO strings share. */
export const instant = (what: string) =>
  z.iso
    .datetime({ offset: true, error: `${what} must be an ISO-8601 date-time with a time zone, e.g. 2027-01-31T09:00:00Z` })
    .transform((v) => new Date(v).toISOString())
    .refine(isInstant, `${what} must be between the years 1 and 9999`);

/** A BCP-47 language with an optional region, as templates are keyed: `ko`, `ko-KR`. */
export const LOCALE_PATTERN = /^[a-z]{2,3}(-[A-Z]{2})?$/;
export const locale = (what: string) => z.string().regex(LOCALE_PATTERN, `${what} must look like ko or ko-KR`);

const clockTime = z.string().refine(isValidClockTime, 'must be a 24-hour time HH:MM, e.g. 22:00').meta({ pattern: CLOCK_TIME.source });
/** A daily window, `start` to `end` in 24-hour time; it may run past midnight (22:00–07:00). */
export const quietHoursWindow = z.object({ start: clockTime, end: clockTime }).strict();
