import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A secret the embedded default generates on first start and keeps in `${dataDir}/${name}` (mode 0600),
 * for API and worker alike: what was made with it (browser subscriptions, signed links) must outlive
 * a restart. A file that exists but does not hold one is an error, never overwritten.
 */
export function loadOrCreateSecret<T extends { [K in keyof T]: string }>(
  dataDir: string,
  name: string,
  generate: () => T,
  fields: (keyof T & string)[],
  what: string,
): T & { created: boolean } {
  const file = join(dataDir, name);
  const existing = readSecret(file, fields, what);
  if (existing) return { ...existing, created: false };

  mkdirSync(dataDir, { recursive: true });
  const value = generate();
  // Write aside, then link into place: link fails if another process got there first, and nobody ever reads half a file.
  const scratch = `${file}.${process.pid}.tmp`;
  writeFileSync(scratch, JSON.stringify(Object.fromEntries(fields.map((f) => [f, value[f]]))), { mode: 0o600 });
  try {
    linkSync(scratch, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { ...readSecret(file, fields, what)!, created: false };
  } finally {
    unlinkSync(scratch);
  }
  return { ...value, created: true };
}

function readSecret<T extends { [K in keyof T]: string }>(file: string, fields: (keyof T & string)[], what: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  if (!parsed || fields.some((f) => typeof parsed[f] !== 'string')) {
    // Never regenerate over it: that would silently orphan everything made with the old one.
    throw new Error(`${file} does not hold ${what}; fix or remove it`);
  }
  return Object.fromEntries(fields.map((f) => [f, parsed[f]])) as T;
}
