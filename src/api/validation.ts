import { z } from 'zod';
import { isInstant } from '../../workflows/validate';
import { apiError } from './errors';

/** Parses `value` or throws a 400 naming each offending field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.output<S> {
  if (value === undefined && where === 'body') throw apiError(400, 'validation_failed', 'request body must be a JSON object');
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : where,
    message: issue.message,
  }));
  const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
  throw apiError(400, 'validation_failed', `invalid ${where}: ${summary}`, details);
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
