import { Router, type Response } from 'express';
import { z } from 'zod';
import { OVER_LIMIT } from '../../../drizzle/schema';
import type { Database } from '../../db';
import { listAudit, type AuditAction } from '../../db/audit';
import { CHANNELS, type Channel } from '../../../workflows/definitions';
import {
  deliveryEnabled,
  findCategorySettings,
  findChannelSettings,
  listChannelSettings,
  saveChannelSettings,
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
import { audited } from '../audit';
import { documented, type Contract } from '../openapi';
import { auditPageSchema, categorySettingsSchema, channelSettingsSchema, deliverySwitchSchema, typeSettingsSchema } from '../responses';
import { identifier, parse, quietHoursWindow } from '../validation';

const windowMinutes = z.number().int().min(0).max(7 * 24 * 60).nullable();
/** PUT: the whole document; a field left out is reset to its default. */
const overLimit = z.enum(OVER_LIMIT, { error: 'overLimit must be defer or refuse' }).meta({
  description: 'A recipient over the throttle: `defer` the notification until a token is free (the default), or `refuse` creating it with 429 (runaway producers).',
});
const typeSchema = z
  .object({
    activeWindowMinutes: windowMinutes.default(null),
    replaceWindowMinutes: windowMinutes.default(null),
    deliveryEnabled: z.boolean().default(true),
    overLimit: overLimit.default('defer'),
  })
  .strict();
/** PATCH: only the fields given change. */
const typeChangeSchema = z
  .object({ activeWindowMinutes: windowMinutes.optional(), replaceWindowMinutes: windowMinutes.optional(), deliveryEnabled: z.boolean().optional(), overLimit: overLimit.optional() })
  .strict()
  .refine((change) => Object.keys(change).length > 0, 'give at least one of activeWindowMinutes, replaceWindowMinutes, deliveryEnabled, overLimit')
  .meta({ minProperties: 1 });
/** What applies to a type or category nobody configured (`updatedAt: null` says so). */
const typeDefaults = (type: string) => ({ type, activeWindowMinutes: null, replaceWindowMinutes: null, deliveryEnabled: true, overLimit: 'defer' as const, updatedAt: null });
const categoryDefaults = (category: string) => ({ category, quietHours: 'defer' as const, mandatory: false, updatedAt: null });
/** PUT: the whole document; `mandatory` left out is false. */
const categorySchema = z
  .object({
    quietHours: z.enum(['defer', 'drop', 'bypass'], { error: 'quietHours must be defer, drop or bypass' }),
    mandatory: z
      .boolean({ error: 'mandatory must be true or false' })
      .default(false)
      .meta({ description: 'Recipients cannot opt out of a mandatory category (422), and an opt-out saved earlier does not hold it back.' }),
  })
  .strict();
const channelDefaults = (channel: Channel) => ({ channel, quietHours: null, updatedAt: null });
/** PUT: the whole document; null (or left out) lifts the channel's quiet hours. */
const channelSchema = z
  .object({
    quietHours: quietHoursWindow
      .nullable()
      .default(null)
      .meta({ description: "In each recipient's time zone (UTC without one), on top of the recipient's own; categories set to `bypass` ignore them, `drop` cancels." }),
  })
  .strict();
const switchSchema = z.object({ enabled: z.boolean({ error: 'enabled must be true or false' }) }).strict();
const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.coerce.number({ error: 'cursor is not one this API returned' }).int().positive('cursor is not one this API returned').optional(),
    subject: z.string().min(1).max(300).optional(),
  })
  .strict();

const typePath = z.object({ type: identifier('type', 100) });
const categoryPath = z.object({ category: identifier('category', 100) });
const typeAnswer = { 200: { description: "The type's settings.", schema: typeSettingsSchema } };
const channelPath = z.object({ channel: z.enum(CHANNELS, { error: `channel must be one of ${CHANNELS.join(', ')}` }) });
const channelAnswer = { 200: { description: "The channel's settings.", schema: channelSettingsSchema } };
const categoryAnswer = { 200: { description: "The category's settings.", schema: categorySettingsSchema } };
const switchAnswer = { 200: { description: 'Whether notifications are sent.', schema: deliverySwitchSchema } };

const CONTRACTS = {
  types: { scope: 'admin', summary: 'Every configured notification type', responses: { 200: { description: 'The types.', schema: z.object({ items: z.array(typeSettingsSchema) }) } } },
  type: { scope: 'admin', summary: "A type's settings (the defaults when not configured)", path: typePath, responses: typeAnswer },
  putType: {
    scope: 'admin',
    summary: "Replace a type's settings",
    description: 'The whole document: a field left out is reset to its default. Use PATCH to change one field. Recorded in the audit log.',
    path: typePath,
    body: typeSchema,
    responses: typeAnswer,
  },
  patchType: { scope: 'admin', summary: "Change some of a type's settings; the others are kept", path: typePath, body: typeChangeSchema, responses: typeAnswer },
  categories: {
    scope: 'admin',
    summary: 'Every configured category',
    responses: { 200: { description: 'The categories.', schema: z.object({ items: z.array(categorySettingsSchema) }) } },
  },
  category: { scope: 'admin', summary: "A category's settings (the defaults when not configured)", path: categoryPath, responses: categoryAnswer },
  putCategory: {
    scope: 'admin',
    summary: "A category's settings: what quiet hours do to it (defer, drop or bypass), and whether it is mandatory",
    description: 'The whole document: `mandatory` left out is false. Recorded in the audit log.',
    path: categoryPath,
    body: categorySchema,
    responses: categoryAnswer,
  },
  channels: {
    scope: 'admin',
    summary: 'Every configured channel',
    responses: { 200: { description: 'The channels with settings.', schema: z.object({ items: z.array(channelSettingsSchema) }) } },
  },
  channel: { scope: 'admin', summary: "A channel's settings (none when not configured)", path: channelPath, responses: channelAnswer },
  putChannel: {
    scope: 'admin',
    summary: "A channel's quiet hours, for every recipient (e.g. no KakaoTalk 21:00–08:00)",
    description: 'A notification on this channel due inside the window waits until it ends (DEFERRED, channel_quiet_hours), as for the recipient\'s own quiet hours. Recorded in the audit log; held notifications re-check at once.',
    path: channelPath,
    body: channelSchema,
    responses: channelAnswer,
  },
  delivery: { scope: 'admin', summary: 'The global delivery switch', responses: switchAnswer },
  putDelivery: {
    scope: 'admin',
    summary: 'Turn all delivery off or on',
    description: 'Off holds every due notification (DEFERRED, delivery_off) and drops none; on re-checks them at once.',
    body: switchSchema,
    responses: switchAnswer,
  },
  audit: {
    scope: 'admin',
    summary: 'Who changed which setting, newest first',
    query: auditQuery,
    responses: { 200: { description: 'One page.', schema: auditPageSchema } },
  },
} satisfies Record<string, Contract>;

export interface SettingsDeps {
  db: Database;
  temporal: TemporalGateway;
  log: Logger;
}

/** Operator settings: per type, per category, per channel, and the global delivery switch. */
export function settingsRoutes(deps: SettingsDeps): Router {
  const router = Router();

  const typeParam = (value: string) => parse(identifier('type', 100), value, 'type');
  const categoryParam = (value: string) => parse(identifier('category', 100), value, 'category');

  async function saveType(res: Response, action: AuditAction, type: string, values: Parameters<typeof saveTypeSettings>[2]) {
    const saved = await audited(deps.db, res, { action, subject: type, change: values }, (tx) => saveTypeSettings(tx, type, values));
    if (saved.deliveryEnabled) await recheckDeferred(deps, { type }, 'delivery_off');
    return saved;
  }

  router.get('/types', documented(CONTRACTS.types, async (_req, res) => {
    res.json({ items: await listTypeSettings(deps.db) });
  }));
  router.get('/types/:type', documented(CONTRACTS.type, async (req, res) => {
    const type = typeParam(req.params.type);
    res.json((await findTypeSettings(deps.db, type)) ?? typeDefaults(type));
  }));
  router.put('/types/:type', documented(CONTRACTS.putType, async (req, res) => {
    res.json(await saveType(res, 'type.put', typeParam(req.params.type), parse(typeSchema, req.body)));
  }));
  router.patch('/types/:type', documented(CONTRACTS.patchType, async (req, res) => {
    res.json(await saveType(res, 'type.patch', typeParam(req.params.type), parse(typeChangeSchema, req.body)));
  }));

  router.get('/categories', documented(CONTRACTS.categories, async (_req, res) => {
    res.json({ items: await listCategorySettings(deps.db) });
  }));
  router.get('/categories/:category', documented(CONTRACTS.category, async (req, res) => {
    const category = categoryParam(req.params.category);
    res.json((await findCategorySettings(deps.db, category)) ?? categoryDefaults(category));
  }));
  router.put('/categories/:category', documented(CONTRACTS.putCategory, async (req, res) => {
    const category = categoryParam(req.params.category);
    const values = parse(categorySchema, req.body);
    res.json(await audited(deps.db, res, { action: 'category.put', subject: category, change: values }, (tx) => saveCategorySettings(tx, category, values)));
  }));

  router.get('/channels', documented(CONTRACTS.channels, async (_req, res) => {
    res.json({ items: await listChannelSettings(deps.db) });
  }));
  router.get('/channels/:channel', documented(CONTRACTS.channel, async (req, res) => {
    const { channel } = parse(channelPath, req.params, 'channel');
    res.json((await findChannelSettings(deps.db, channel)) ?? channelDefaults(channel));
  }));
  router.put('/channels/:channel', documented(CONTRACTS.putChannel, async (req, res) => {
    const { channel } = parse(channelPath, req.params, 'channel');
    const values = parse(channelSchema, req.body);
    const saved = await audited(deps.db, res, { action: 'channel.put', subject: channel, change: values }, (tx) => saveChannelSettings(tx, channel, values));
    await recheckDeferred(deps, {}, 'channel_quiet_hours');
    res.json(saved);
  }));

  router.get('/delivery', documented(CONTRACTS.delivery, async (_req, res) => {
    res.json({ enabled: await deliveryEnabled(deps.db) });
  }));

  /** The global switch: off holds every due notification (DEFERRED, delivery_off), never drops one. */
  router.put('/delivery', documented(CONTRACTS.putDelivery, async (req, res) => {
    const { enabled } = parse(switchSchema, req.body);
    await audited(deps.db, res, { action: 'delivery.switch', subject: 'delivery', change: { enabled } }, (tx) => setDeliveryEnabled(tx, enabled));
    if (enabled) await recheckDeferred(deps, {}, 'delivery_off');
    res.json({ enabled });
  }));

  /** Who changed which setting, newest first; `cursor` is the `nextCursor` of the previous page. */
  router.get('/audit', documented(CONTRACTS.audit, async (req, res) => {
    const { limit, cursor, subject } = parse(auditQuery, req.query, 'query');
    const items = await listAudit(deps.db, { limit: limit + 1, before: cursor, subject });
    const page = items.slice(0, limit);
    res.json({ items: page, nextCursor: items.length > limit ? String(page[page.length - 1].id) : null });
  }));

  return router;
}
