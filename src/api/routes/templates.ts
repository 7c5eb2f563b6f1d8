import { Router } from 'express';
import Mustache from 'mustache';
import { z } from 'zod';
import { CHANNELS } from '../../../workflows/definitions';
import type { Database } from '../../db';
import { ANY_CHANNEL, findTemplate, listTemplates, saveTemplate } from '../../db/templates';
import { apiError } from '../errors';
import { documented, type Contract } from '../openapi';
import { templateSchema as templateAnswer } from '../responses';
import { locale, parse } from '../validation';
import { audited } from '../audit';

const mustache = (what: string, schema: z.ZodString) =>
  schema.superRefine((text, ctx) => {
    try {
      Mustache.parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${what} is not a valid mustache template: ${(err as Error).message}` });
    }
  });

const templateSchema = z
  .object({
    title: mustache('title', z.string().max(500)).nullable().default(null),
    body: mustache('body', z.string().min(1, 'body must not be empty').max(8000)),
    html: mustache('html', z.string().max(100_000))
      .nullable()
      .default(null)
      .meta({ description: 'Email only: the HTML part (values are HTML-escaped here, unlike in title and body). Other channels ignore it.' }),
    providerTemplateId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, 'providerTemplateId may contain letters, digits, _ and - (at most 100)')
      .nullable()
      .default(null)
      .meta({ description: "KakaoTalk only, and required there: the id of the Alimtalk template the provider approved, whose text `body` must render to." }),
  })
  .strict();

const params = z.object({
  key: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'key may contain letters, digits and _ . : - (at most 100)'),
  locale: locale('locale'),
  channel: z.enum([...CHANNELS, ANY_CHANNEL], { error: `channel must be one of ${[...CHANNELS, ANY_CHANNEL].join(', ')}` }),
});

const listQuery = z.object({ key: params.shape.key.optional() }).strict();

const CONTRACTS = {
  list: {
    scope: 'admin',
    summary: 'Templates, all or those of one key',
    query: listQuery,
    responses: { 200: { description: 'The templates.', schema: z.object({ items: z.array(templateAnswer) }) } },
  },
  read: {
    scope: 'admin',
    summary: 'One template text',
    path: params,
    responses: { 200: { description: 'The template.', schema: templateAnswer } },
    errors: { 404: 'No template for this key, locale and channel.' },
  },
  save: {
    scope: 'admin',
    summary: 'Create or replace one template text (`default` serves every channel)',
    description: 'Mustache; rendered with the notification\'s `template.data`. Recorded in the audit log.',
    path: params,
    body: templateSchema,
    responses: {
      201: {
        description: 'Created.',
        schema: templateAnswer,
        links: {
          read: {
            to: ['get', '/v1/templates/{key}/{locale}/{channel}'],
            parameters: { key: '$request.path.key', locale: '$request.path.locale', channel: '$request.path.channel' },
          },
        },
      },
      200: { description: 'Replaced.', schema: templateAnswer },
    },
  },
} satisfies Record<string, Contract>;

/** PUT /v1/templates/:key/:locale/:channel — creates or replaces one text (`default` serves every channel); GET reads them back. */
export function templateRoutes({ db }: { db: Database }): Router {
  const router = Router();
  router.get('/', documented(CONTRACTS.list, async (req, res) => {
    const { key } = parse(listQuery, req.query, 'query');
    res.json({ items: await listTemplates(db, key) });
  }));
  router.get('/:key/:locale/:channel', documented(CONTRACTS.read, async (req, res) => {
    const where = parse(params, req.params, 'path');
    const row = await findTemplate(db, where);
    if (!row) throw apiError(404, 'template_not_found', `no template ${where.key} for locale ${where.locale} and channel ${where.channel}`);
    res.json(row);
  }));
  router.put('/:key/:locale/:channel', documented(CONTRACTS.save, async (req, res) => {
    const where = parse(params, req.params, 'path');
    const body = parse(templateSchema, req.body);
    const subject = `${where.key}/${where.locale}/${where.channel}`;
    const { row, created } = await audited(db, res, { action: 'template.put', subject, change: body }, (tx) => saveTemplate(tx, { ...where, ...body }));
    res.status(created ? 201 : 200).json(row);
  }));
  return router;
}
