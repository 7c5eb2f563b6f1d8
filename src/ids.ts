import { createHash, randomBytes } from 'node:crypto';

/**
 * A notification's id (and its workflow id) is a pure function of its idempotency key, so a retried
 * request can never start a second workflow. Hashing keeps arbitrary client keys out of ids and URLs.
 */
export function notificationIdFor(idempotencyKey: string): string {
  return `ntf_${createHash('sha256').update(idempotencyKey, 'utf8').digest('base64url').slice(0, 26)}`;
}

export function newTargetId(): string {
  return `tgt_${randomBytes(12).toString('base64url')}`;
}
