import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateVAPIDKeys } from 'web-push';

export interface StoredVapidKeys {
  publicKey: string;
  privateKey: string;
  /** True when this call generated the pair (browsers subscribed under an older key must resubscribe if it changes). */
  created: boolean;
}

/**
 * The server's VAPID key pair, generated on first start and kept in `${dataDir}/vapid.json` (mode 0600):
 * every existing subscription is bound to the public key, so it must survive restarts.
 */
export function loadOrCreateVapidKeys(dataDir: string): StoredVapidKeys {
  const file = join(dataDir, 'vapid.json');
  const existing = readKeys(file);
  if (existing) return { ...existing, created: false };

  mkdirSync(dataDir, { recursive: true });
  const keys = generateVAPIDKeys();
  // Write aside, then link into place: link fails if another process got there first, and nobody ever reads half a file.
  const scratch = `${file}.${process.pid}.tmp`;
  writeFileSync(scratch, JSON.stringify({ publicKey: keys.publicKey, privateKey: keys.privateKey }), { mode: 0o600 });
  try {
    linkSync(scratch, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { ...readKeys(file)!, created: false };
  } finally {
    unlinkSync(scratch);
  }
  return { publicKey: keys.publicKey, privateKey: keys.privateKey, created: true };
}

function readKeys(file: string): Omit<StoredVapidKeys, 'created'> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = safeParse(text);
  if (typeof parsed?.publicKey !== 'string' || typeof parsed.privateKey !== 'string') {
    // Never regenerate over it: that would silently orphan every browser subscription.
    throw new Error(`${file} does not hold a VAPID key pair; fix or remove it`);
  }
  return { publicKey: parsed.publicKey, privateKey: parsed.privateKey };
}

function safeParse(text: string): { publicKey?: unknown; privateKey?: unknown } | undefined {
  try {
    return JSON.parse(text) as { publicKey?: unknown; privateKey?: unknown };
  } catch {
    return undefined;
  }
}
