// Signal payloads come from operators typing JSON (`temporal workflow signal --input`), so nothing in
// them is trusted: a bad value is refused here rather than poisoning a recording activity later.
import type { Content } from './definitions';

// An explicit zone is required: without one, Date.parse reads local time, which may differ on replay.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
// Postgres text holds neither NUL nor lone surrogates.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text Postgres can store; the API's input guard uses the same rule. */
export const isStorable = (text: string): boolean => !text.includes('\u0000') && !LONE_SURROGATE.test(text);

export const isStorableText = (value: unknown, max = 4000): value is string =>
  typeof value === 'string' && value.length <= max && isStorable(value);

export function isInstant(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) return false;
  const year = new Date(value).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

export const isNotificationId = (value: unknown): value is string => typeof value === 'string' && /^ntf_[A-Za-z0-9_-]{1,64}$/.test(value);

/** Inline content as the API accepts it; template references only come through the API. */
export function isInlineContent(value: unknown): value is Content {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const c = value as Record<string, unknown>;
  if (!isStorableText(c.body) || c.body === '') return false;
  if (c.title !== undefined && !isStorableText(c.title, 200)) return false;
  if (c.url !== undefined && !isStorableText(c.url, 2048)) return false;
  if (c.data !== undefined) {
    if (c.data === null || typeof c.data !== 'object' || Array.isArray(c.data)) return false;
    if (!Object.entries(c.data).every(([k, v]) => isStorableText(k, 200) && isStorableText(v))) return false;
  }
  return Object.keys(c).every((k) => ['title', 'body', 'data', 'url'].includes(k));
}
