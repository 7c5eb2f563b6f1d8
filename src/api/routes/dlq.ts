import { Router } from 'express';
import { z } from 'zod';
import { CHANNELS } from '../../../workflows/definitions';
import type { Database } from '../../db';
import { countDeadLetters, listDeadLetters, type DeadLetterFilter } from '../../db/dead-letters';
import { discardNotification, redriveNotification } from '../../notifications/dead-letters';
import { notificationDetail, notificationView } from '../../notifications/view';
import type { TemporalGateway } from '../../temporal/gateway';
import { requesterOf } from '../auth';
import { keysetCursor } from '../cursor';
import { identifier, instant, parse } from '../validation';

export interface DlqDeps {
  db: Database;
  temporal: TemporalGateway;
}

const filterFields = {
  channel: z.enum(CHANNELS, { error: `channel must be one of ${CHANNELS.join(', ')}` }).optional(),
  errorType: identifier('errorType', 100).optional(),
  type: identifier('type', 100).optional(),
  userId: identifier('userId').optional(),
  failedFrom: instant('failedFrom').optional(),
  failedTo: instant('failedTo').optional(),
  discarded: z.enum(['true', 'false'], { error: 'discarded must be true or false' }).optional(),
};

const listSchema = z
  .object({ ...filterFields, limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().optional() })
  .strict();
const statsSchema = z.object({ ...filterFields, per: z.enum(['hour', 'day'], { error: 'per must be hour or day' }).default('hour') }).strict();

const reason = z.string({ error: 'reason must be a string' }).trim().min(1, 'reason must say why').max(500);
const redriveSchema = z.object({ reason, scheduledAt: instant('scheduledAt').optional() }).strict();
const discardSchema = z.object({ reason }).strict();

const cursor = keysetCursor('failedAt');

function toFilter(q: z.output<z.ZodObject<typeof filterFields>>): DeadLetterFilter {
  return {
    channel: q.channel,
    errorType: q.errorType,
    type: q.type,
    userId: q.userId,
    failedFrom: q.failedFrom ? new Date(q.failedFrom) : undefined,
    failedTo: q.failedTo ? new Date(q.failedTo) : undefined,
    discarded: q.discarded === 'true',
  };
}

/** GET /v1/dlq and /v1/dlq/stats: the FAILED notifications an operator has not discarded yet. */
export function dlqRoutes(deps: DlqDeps): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const q = parse(listSchema, req.query, 'query');
    const { items, next } = await listDeadLetters(deps.db, toFilter(q), q.limit, q.cursor ? cursor.decode(q.cursor) : undefined);
    res.json({
      items: items.map(({ row, targets }) => ({ ...notificationView(row), failedAt: row.completedAt, targets })),
      nextCursor: next ? cursor.encode(next) : null,
    });
  });

  router.get('/stats', async (req, res) => {
    const q = parse(statsSchema, req.query, 'query');
    const counts = await countDeadLetters(deps.db, toFilter(q), q.per);
    res.json({ per: q.per, total: counts.reduce((sum, c) => sum + c.count, 0), counts });
  });

  return router;
}

/** POST /v1/notifications/:id/redrive and /discard: an operator's answer to one dead letter. */
export function deadLetterActionRoutes(deps: DlqDeps): Router {
  const router = Router();

  router.post('/:id/redrive', async (req, res) => {
    const body = parse(redriveSchema, req.body);
    const { alreadyRedriven } = await redriveNotification(deps, req.params.id, { ...body, by: requesterOf(res) });
    res.status(alreadyRedriven ? 200 : 202).json(await notificationDetail(deps.db, req.params.id));
  });

  router.post('/:id/discard', async (req, res) => {
    const body = parse(discardSchema, req.body);
    await discardNotification(deps, req.params.id, { ...body, by: requesterOf(res) });
    res.json(await notificationDetail(deps.db, req.params.id));
  });

  return router;
}
