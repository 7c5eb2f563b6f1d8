import { isInstant, isNotificationId } from '../../workflows/validate';
import { apiError } from './errors';

/**
 * The opaque cursor of a list paginated on (an instant, a notification id), newest first: base64url
 * JSON that names the instant `field`. Only the exact form `encode` wrote is accepted back, so a
 * forged cursor gets a 400, never a date Postgres would reject.
 */
export function keysetCursor<F extends string>(field: F) {
  type Cursor = Record<F, string> & { id: string };
  return {
    encode: (cursor: Cursor) => Buffer.from(JSON.stringify({ [field]: cursor[field], id: cursor.id })).toString('base64url'),
    decode(raw: string): Cursor {
      try {
        const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
        const at = c?.[field];
        if (isNotificationId(c.id) && isInstant(at) && new Date(at).toISOString() === at) return { [field]: at, id: c.id } as Cursor;
      } catch {
        // fall through to the 400
      }
      throw apiError(400, 'invalid_cursor', 'cursor is not one this API returned');
    },
  };
}
