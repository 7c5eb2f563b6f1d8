import { Router } from 'express';
import { CHANNELS } from '../../../workflows/definitions';
import { z } from 'zod';
import type { Database } from '../../db';
import { findPreferences, mandatoryAmong, recordActivity, savePreferences } from '../../db/recipients';
import { isValidTimeZone } from '../../policy/quiet-hours';
import type { Logger } from '../../logger';
import type { TemporalGateway } from '../../temporal/gateway';
import { recheckDeferred } from '../../notifications/recheck';
import { apiError } from '../errors';
import { documented, type Contract } from '../openapi';
import { activityAnswerSchema, preferencesSchema as preferencesAnswer } from '../responses';
import { identifier, instant, locale, parse, quietHoursWindow } from '../validation';

const userIdParam = identifier('user id');

const channelList = z
  .array(z.enum(CHANNELS, { error: `channel must be one of ${CHANNELS.join(', ')}` }))
  .refine((list) => new Set(list).size === list.length, 'a channel may appear only once')
  .meta({ uniqueItems: true });
const preferencesSchema = z
  .object({
    timeZone: z
      .string()
      .refine(isValidTimeZone, 'timeZone must be an IANA time zone, e.g. Europe/Berlin')
      // The canonical zone names this runtime knows; links such as US/Eastern are accepted too.
      .meta({ enum: Intl.supportedValuesOf('timeZone') })
      .nullable()
      .default(null),
    quietHours: quietHoursWindow.nullable().default(null),
    optedOutCategories: z.array(identifier('category', 100)).max(100).default([]),
    preferredChannels: channelList.default([]).meta({ description: 'Where `channels: "preferred"` sends, first choice first (fallback routing).' }),
    disabledChannels: z
      .record(identifier('category', 100), channelList)
      .default({})
      .refine((r) => Object.keys(r).length <= 100, 'disabledChannels may name at most 100 categories')
      .meta({ description: 'Per category, channels left out of the preferred ones.' }),
    locale: locale('locale')
      .nullable()
      .default(null),
  })
  .strict();

const activitySchema = z.object({ at: instant('at').optional() }).strict();

const userPath = z.object({ userId: userIdParam });

const CONTRACTS = {
  preferences: {
    scope: 'client',
    summary: "A recipient's preferences (the defaults when none were saved)",
    path: userPath,
    responses: { 200: { description: 'The preferences that apply.', schema: preferencesAnswer } },
  },
  savePreferences: {
    scope: 'client',
    summary: "Replace a recipient's preferences",
    description: 'The whole document: a field left out is cleared. Deferred notifications of the user are re-checked at once.',
    path: userPath,
    body: preferencesSchema,
    responses: { 200: { description: 'The saved preferences.', schema: preferencesAnswer } },
    errors: { 422: '`category_mandatory`: an opt-out of a mandatory category; `details.categories` names them. Nothing is saved.' },
  },
  activity: {
    scope: 'client',
    summary: 'Report that the user was active (now, or at `at`)',
    description: 'A notification of a type with an active window is not sent while the user was active within it.',
    path: userPath,
    body: activitySchema,
    bodyOptional: true,
    responses: { 200: { description: 'The latest activity recorded.', schema: activityAnswerSchema } },
  },
} satisfies Record<string, Contract>;

export interface UserRouteDeps {
  db: Database;
  temporal: TemporalGateway;
  log: Logger;
}

export function userRoutes(deps: UserRouteDeps): Router {
  const { db } = deps;
  const router = Router();

  const preferencesView = (userId: string, saved: Awaited<ReturnType<typeof findPreferences>>) => ({
    userId,
    timeZone: saved?.timeZone ?? null,
    quietHours: saved?.quietHours ?? null,
    optedOutCategories: saved?.optedOutCategories ?? [],
    preferredChannels: saved?.preferredChannels ?? [],
    disabledChannels: saved?.disabledChannels ?? {},
    locale: saved?.locale ?? null,
    lastActiveAt: saved?.lastActiveAt ?? null,
  });

  /** What the recipient asked for; a recipient with none reads as the defaults that apply (no quiet hours, no opt-outs). */
  router.get('/:userId/preferences', documented(CONTRACTS.preferences, async (req, res) => {
    const userId = parse(userIdParam, req.params.userId, 'user id');
    res.json(preferencesView(userId, await findPreferences(db, userId)));
  }));

  /** Replaces the recipient's preferences as a whole (PUT semantics: omitted fields are cleared). */
  router.put('/:userId/preferences', documented(CONTRACTS.savePreferences, async (req, res) => {
    const userId = parse(userIdParam, req.params.userId, 'user id');
    const body = parse(preferencesSchema, req.body);
    const mandatory = await mandatoryAmong(db, body.optedOutCategories);
    if (mandatory.length > 0) {
      throw apiError(422, 'category_mandatory', `${mandatory.join(', ')} ${mandatory.length === 1 ? 'is' : 'are'} mandatory: a recipient cannot opt out`, { categories: mandatory });
    }
    const saved = await savePreferences(db, userId, body);
    await recheckDeferred(deps, { userId });
    res.json(preferencesView(userId, saved));
  }));

  /** Reports that the user was active in the app (now, or at `at`). */
  router.post('/:userId/activity', documented(CONTRACTS.activity, async (req, res) => {
    const userId = parse(userIdParam, req.params.userId, 'user id');
    const body = parse(activitySchema, req.body ?? {});
    const lastActiveAt = await recordActivity(db, userId, body.at ? new Date(body.at) : new Date());
    res.json({ userId, lastActiveAt });
  }));

  return router;
}
