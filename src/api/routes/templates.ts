import { Router } from 'express';
import Mustache from 'mustache';
import { z } from 'zod';
import { CHANNELS } from '../../../workflows/definitions';
import type { Database } from '../../db';
import { ANY_CHANNEL, saveTemplate } from '../../db/templates';
import { locale, parse } from '../validation';
import { audited } from '../audit';

const mustache = (what: string) =>
  z.string().superRefine((text, ctx) => {
    try {
      Mustache.parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${what} is not a valid mustache template: ${(err as Error).message}` });
    }
  });

const templateSchema = z
  .object({
    title: mustache('title').pipe(z.string().max(500)).nullable().default(null),
    body: mustache('body').pipe(z.string().min(1, 'body must not be empty').max(8000)),
  })
  .strict();

const params = z.object({
  key: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'key may contain letters, digits and _ . : - (at most 100)'),
  locale: locale('locale'),
  channel: z.enum([...CHANNELS, ANY_CHANNEL], { error: `channel must be one of ${[...CHANNELS, ANY_CHANNEL].join(', ')}` }),
});

/** PUT /v1/templates/:key/:locale/:channel — creates or replaces one text (`default` serves every channel). */
export function templateRoutes({ db }: { db: Database }): Router {
  const router = Router();
  router.put('/:key/:locale/:channel', async (req, res) => {
    const where = parse(params, req.params, 'path');
    const body = parse(templateSchema, req.body);
    const subject = `${where.key}/${where.locale}/${where.channel}`;
    const { row, created } = await audited(db, res, { action: 'template.put', subject, change: body }, (tx) => saveTemplate(tx, { ...where, ...body }));
    res.status(created ? 201 : 200).json(row);
  });
  return router;
}
