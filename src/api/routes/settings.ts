import { Router } from 'express';
import { z } from 'zod';
import type { Database } from '../../db';
import { deliveryEnabled, saveCategorySettings, saveTypeSettings, setDeliveryEnabled } from '../../db/recipients';
import type { Logger } from '../../logger';
import type { TemporalGateway } from '../../temporal/gateway';
import { recheckDeferred } from '../../notifications/recheck';
import { identifier, parse } from '../validation';

const typeSchema = z
  .object({
    activeWindowMinutes: z.number().int().min(0).max(7 * 24 * 60).nullable().default(null),
    replaceWindowMinutes: z.number().int().min(0).max(7 * 24 * 60).nullable().default(null),
    deliveryEnabled: z.boolean().default(true),
  })
  .strict();
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

  router.put('/types/:type', async (req, res) => {
    const type = parse(identifier('type', 100), req.params.type, 'type');
    const saved = await saveTypeSettings(deps.db, type, parse(typeSchema, req.body));
    if (saved.deliveryEnabled) await recheckDeferred(deps, { type }, 'delivery_off');
    res.json(saved);
  });

  router.put('/categories/:category', async (req, res) => {
    const category = parse(identifier('category', 100), req.params.category, 'category');
    res.json(await saveCategorySettings(deps.db, category, parse(categorySchema, req.body).quietHours));
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
