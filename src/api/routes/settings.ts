import { Router } from 'express';
import { z } from 'zod';
import type { Database } from '../../db';
import {
  deliveryEnabled,
  findCategorySettings,
  findTypeSettings,
  listCategorySettings,
  listTypeSettings,
  saveCategorySettings,
  saveTypeSettings,
  setDeliveryEnabled,
} from '../../db/recipients';
import type { Logger } from '../../logger';
import type { TemporalGateway } from '../../temporal/gateway';
import { recheckDeferred } from '../../notifications/recheck';
import { identifier, parse } from '../validation';

const windowMinutes = z.number().int().min(0).max(7 * 24 * 60).nullable();
/** PUT: the whole document; a field left out is reset to its default. */
const typeSchema = z
  .object({ activeWindowMinutes: windowMinutes.default(null), replaceWindowMinutes: windowMinutes.default(null), deliveryEnabled: z.boolean().default(true) })
  .strict();
/** PATCH: only the fields given change. */
const typeChangeSchema = z
  .object({ activeWindowMinutes: windowMinutes.optional(), replaceWindowMinutes: windowMinutes.optional(), deliveryEnabled: z.boolean().optional() })
  .strict()
  .refine((change) => Object.keys(change).length > 0, 'give at least one of activeWindowMinutes, replaceWindowMinutes, deliveryEnabled');
/** What applies to a type or category nobody configured (`updatedAt: null` says so). */
const typeDefaults = (type: string) => ({ type, activeWindowMinutes: null, replaceWindowMinutes: null, deliveryEnabled: true, updatedAt: null });
const categoryDefaults = (category: string) => ({ category, quietHours: 'defer' as const, updatedAt: null });
const categorySchema = z.object({ quietHours: z.enum(['defer', 'drop', 'bypass'], { error: 'quietHours must be defer, drop or bypass' }) }).strict();
const switchSchema = z.object({ enabled: z.boolean({ error: 'enabled must be true or false' }) }).strict();

export interface SettingsDeps {
  db: Database;
  temporal: TemporalGateway;
  log: Logger;
}

/** Operator settings: per type, per category, and the global delivery switch. */
export function settingsRoutes(deps: SettingsDeps): Router {
  const router = Router();

  const typeParam = (value: string) => parse(identifier('type', 100), value, 'type');
  const categoryParam = (value: string) => parse(identifier('category', 100), value, 'category');

  async function saveType(type: string, values: Parameters<typeof saveTypeSettings>[2]) {
    const saved = await saveTypeSettings(deps.db, type, values);
    if (saved.deliveryEnabled) await recheckDeferred(deps, { type }, 'delivery_off');
    return saved;
  }

  router.get('/types', async (_req, res) => {
    res.json({ items: await listTypeSettings(deps.db) });
  });
  router.get('/types/:type', async (req, res) => {
    const type = typeParam(req.params.type);
    res.json((await findTypeSettings(deps.db, type)) ?? typeDefaults(type));
  });
  router.put('/types/:type', async (req, res) => {
    res.json(await saveType(typeParam(req.params.type), parse(typeSchema, req.body)));
  });
  router.patch('/types/:type', async (req, res) => {
    res.json(await saveType(typeParam(req.params.type), parse(typeChangeSchema, req.body)));
  });

  router.get('/categories', async (_req, res) => {
    res.json({ items: await listCategorySettings(deps.db) });
  });
  router.get('/categories/:category', async (req, res) => {
    const category = categoryParam(req.params.category);
    res.json((await findCategorySettings(deps.db, category)) ?? categoryDefaults(category));
  });
  router.put('/categories/:category', async (req, res) => {
    res.json(await saveCategorySettings(deps.db, categoryParam(req.params.category), parse(categorySchema, req.body).quietHours));
  });

  router.get('/delivery', async (_req, res) => {
    res.json({ enabled: await deliveryEnabled(deps.db) });
  });

  /** The global switch: off holds every due notification (DEFERRED, delivery_off), never drops one. */
  router.put('/delivery', async (req, res) => {
    const { enabled } = parse(switchSchema, req.body);
    await setDeliveryEnabled(deps.db, enabled);
    if (enabled) await recheckDeferred(deps, {}, 'delivery_off');
    res.json({ enabled });
  });

  return router;
}
