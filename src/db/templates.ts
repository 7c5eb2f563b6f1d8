import { and, eq, inArray, sql } from 'drizzle-orm';
import { templates } from '../../drizzle/schema';
import type { Executor } from './index';

export type TemplateRow = typeof templates.$inferSelect;
/** The catch-all channel: one text for every channel that has none of its own. */
export const ANY_CHANNEL = 'default';

export async function saveTemplate(
  db: Executor,
  t: { key: string; locale: string; channel: string; title: string | null; body: string; html: string | null; providerTemplateId: string | null },
): Promise<{ row: TemplateRow; created: boolean }> {
  const [row] = await db
    .insert(templates)
    .values(t)
    .onConflictDoUpdate({
      target: [templates.key, templates.locale, templates.channel],
      set: { title: t.title, body: t.body, html: t.html, providerTemplateId: t.providerTemplateId, updatedAt: sql`now()` },
    })
    .returning({ key: templates.key, locale: templates.locale, channel: templates.channel, title: templates.title, body: templates.body, html: templates.html, providerTemplateId: templates.providerTemplateId, updatedAt: templates.updatedAt, created: sql<boolean>`(xmax = 0)` });
  const { created, ...saved } = row;
  return { row: saved, created };
}

/**
 * The best template for a channel along a locale chain: the most specific locale wins, and within a
 * locale the channel's own text beats the catch-all (language matters more than channel formatting).
 */
export async function resolveTemplate(db: Executor, key: string, locales: string[], channel: string): Promise<TemplateRow | undefined> {
  const rows = await db
    .select()
    .from(templates)
    .where(and(eq(templates.key, key), inArray(templates.locale, locales), inArray(templates.channel, [channel, ANY_CHANNEL])));
  const rank = (r: TemplateRow) => locales.indexOf(r.locale) * 2 + (r.channel === channel ? 0 : 1);
  return rows.sort((a, b) => rank(a) - rank(b))[0];
}

/** Every text of every template, or of one key, in a stable order. */
export async function listTemplates(db: Executor, key?: string): Promise<TemplateRow[]> {
  return db
    .select()
    .from(templates)
    .where(key === undefined ? undefined : eq(templates.key, key))
    .orderBy(templates.key, templates.locale, templates.channel);
}

export async function findTemplate(db: Executor, id: { key: string; locale: string; channel: string }): Promise<TemplateRow | undefined> {
  const [row] = await db
    .select()
    .from(templates)
    .where(and(eq(templates.key, id.key), eq(templates.locale, id.locale), eq(templates.channel, id.channel)));
  return row;
}
