import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { CHANNELS, type DeadLetterFilterInput } from '../../../workflows/definitions';
import type { Database } from '../../db';
import { countDeadLetters, countMatchingDeadLetters, deadLetterFilterOf, deadLetterIds, listDeadLetters } from '../../db/dead-letters';
import { discardNotification, redriveNotification } from '../../notifications/dead-letters';
import { notificationDetail, notificationView } from '../../notifications/view';
import type { DeliveryReporter } from '../../reports';
import type { TemporalGateway } from '../../temporal/gateway';
import { requesterOf } from '../auth';
import { keysetCursor } from '../cursor';
import { apiError } from '../errors';
import { documented, type Contract } from '../openapi';
import {
  bulkDeadLetterDryRunSchema,
  bulkDeadLetterStartedSchema,
  deadLetterOperationSchema,
  deadLetterPageSchema,
  deadLetterStatsSchema,
  notificationDetailSchema,
} from '../responses';
import { identifier, instant, parse } from '../validation';

export interface DlqDeps {
  db: Database;
  temporal: TemporalGateway;
  reporter: DeliveryReporter;
}

/** The filters every dead-letter route shares (query strings and bulk bodies alike). */
const filterFields = {
  channel: z.enum(CHANNELS, { error: `channel must be one of ${CHANNELS.join(', ')}` }).optional(),
  errorType: identifier('errorType', 100).optional(),
  type: identifier('type', 100).optional(),
  userId: identifier('userId').optional(),
  failedFrom: instant('failedFrom').optional(),
  failedTo: instant('failedTo').optional(),
};
const discarded = z.enum(['true', 'false'], { error: 'discarded must be true or false' }).optional();

const listSchema = z
  .object({ ...filterFields, discarded, limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().optional() })
  .strict();
const statsSchema = z.object({ ...filterFields, discarded, per: z.enum(['hour', 'day'], { error: 'per must be hour or day' }).default('hour') }).strict();

// Something other than ASCII white space: a class JSON Schema validators in every language read alike.
const reason = z
  .string({ error: 'reason must be a string' })
  .max(500)
  .regex(/[^ \t\n\r\f\v]/, 'reason must say why')
  .meta({ description: 'Why: recorded with every notification it touches.' });
const redriveSchema = z.object({ reason, scheduledAt: instant('scheduledAt').optional() }).strict();
const discardSchema = z.object({ reason }).strict();

const bulkFilter = z
  .object(filterFields)
  .strict()
  .refine((f) => Object.values(f).some((v) => v !== undefined), 'filter must name at least one criterion')
  .meta({ minProperties: 1 });
const bulkFields = {
  filter: bulkFilter,
  reason,
  confirm: z.boolean({ error: 'confirm must be true or false' }).default(false),
  limit: z.number().int().min(1).max(10_000).default(1000),
};
const bulkSchemas = {
  redrive: z.object({ ...bulkFields, scheduledAt: instant('scheduledAt').optional() }).strict(),
  discard: z.object(bulkFields).strict(),
};
const operationId = identifier('operation id', 100);

const cursor = keysetCursor('failedAt');

const notificationPath = z.object({ id: z.string() });
const notFound = { 404: 'No notification with this id.' };

const CONTRACTS = {
  list: {
    scope: 'admin',
    summary: 'Dead letters: FAILED notifications not yet discarded, newest failure first',
    query: listSchema,
    responses: { 200: { description: 'One page, each with its failed targets.', schema: deadLetterPageSchema } },
  },
  stats: {
    scope: 'admin',
    summary: 'Failed targets counted by channel × error type × hour or day',
    query: statsSchema,
    responses: { 200: { description: 'The counts, oldest period first.', schema: deadLetterStatsSchema } },
  },
  operation: {
    scope: 'admin',
    summary: 'Progress or result of a bulk redrive or discard',
    path: z.object({ id: operationId }),
    responses: { 200: { description: 'Where the operation stands.', schema: deadLetterOperationSchema } },
    errors: { 404: 'No operation with this id.', 503: 'No worker answered within 2 s; retry later.' },
  },
  redrive: {
    scope: 'admin',
    summary: 'Send a dead letter again (a new run under the same id)',
    path: notificationPath,
    body: redriveSchema,
    responses: {
      202: { description: 'Redriven: SCHEDULED again.', schema: notificationDetailSchema },
      200: { description: 'Already redriven: the notification now.', schema: notificationDetailSchema },
    },
    errors: { ...notFound, 409: 'Not a dead letter (not FAILED, or discarded).' },
  },
  discard: {
    scope: 'admin',
    summary: 'Mark a dead letter as handled without sending it',
    path: notificationPath,
    body: discardSchema,
    responses: { 200: { description: 'Discarded: the notification now.', schema: notificationDetailSchema } },
    errors: { ...notFound, 409: 'Not a dead letter (not FAILED).' },
  },
} satisfies Record<string, Contract>;

const bulkContract = (action: 'redrive' | 'discard'): Contract => ({
  scope: 'admin',
  summary: `${action === 'redrive' ? 'Redrive' : 'Discard'} every dead letter that matches a filter`,
  description: 'A dry run (how many match, ten of their ids) unless `confirm: true`; confirmed, the work runs in the worker and the answer names the operation.',
  body: bulkSchemas[action],
  responses: {
    200: { description: 'Dry run: what matched.', schema: bulkDeadLetterDryRunSchema },
    202: {
      description: 'Started: follow `statusUrl`.',
      schema: bulkDeadLetterStartedSchema,
      headers: z.object({ Location: z.string().meta({ description: 'The operation status.' }) }),
    },
  },
});

const toFilter = ({ discarded, ...f }: DeadLetterFilterInput & { discarded?: 'true' | 'false' }) => deadLetterFilterOf(f, { discarded: discarded === 'true' });

/** GET /v1/dlq and /v1/dlq/stats: the FAILED notifications an operator has not discarded yet. */
export function dlqRoutes(deps: DlqDeps): Router {
  const router = Router();

  router.get('/', documented(CONTRACTS.list, async (req, res) => {
    const q = parse(listSchema, req.query, 'query');
    const { items, next } = await listDeadLetters(deps.db, toFilter(q), q.limit, q.cursor ? cursor.decode(q.cursor) : undefined);
    res.json({
      items: items.map(({ row, targets }) => ({ ...notificationView(row), failedAt: row.completedAt, targets })),
      nextCursor: next ? cursor.encode(next) : null,
    });
  }));

  router.get('/stats', documented(CONTRACTS.stats, async (req, res) => {
    const q = parse(statsSchema, req.query, 'query');
    const counts = await countDeadLetters(deps.db, toFilter(q), q.per);
    res.json({ per: q.per, total: counts.reduce((sum, c) => sum + c.count, 0), counts });
  }));

  router.get('/operations/:id', documented(CONTRACTS.operation, async (req, res) => {
    const id = parse(operationId, req.params.id, 'operation id');
    const progress = await deps.temporal.deadLetterBatch(id);
    if (!progress) throw apiError(404, 'operation_not_found', `no dead-letter operation with id ${id}`);
    res.json({ operationId: id, ...progress, failedIds: progress.failed, failed: progress.failed.length });
  }));

  return router;
}

/**
 * POST /v1/dlq:redrive and /v1/dlq:discard: a dry run (how many match, ten of them) unless
 * `confirm: true`; confirmed, a deadLetterBatchWorkflow does the work and the answer names it at once.
 */
export function bulkDeadLetterRoute(deps: DlqDeps, action: 'redrive' | 'discard'): Router {
  const router = Router();
  router.post('/', documented(bulkContract(action), async (req, res) => {
    const body = parse(bulkSchemas[action], req.body);
    const filter = deadLetterFilterOf(body.filter);
    const matched = await countMatchingDeadLetters(deps.db, filter);
    if (!body.confirm) {
      res.json({ dryRun: true, action, matched, sampleIds: await deadLetterIds(deps.db, filter, 10) });
      return;
    }
    const id = `dlq-${action}-${randomUUID()}`;
    await deps.temporal.startDeadLetterBatch(id, {
      action,
      filter: body.filter,
      note: { by: requesterOf(res), reason: body.reason },
      ...('scheduledAt' in body && body.scheduledAt ? { scheduledAt: body.scheduledAt } : {}),
      limit: body.limit,
    });
    res
      .status(202)
      .location(`/v1/dlq/operations/${id}`)
      .json({ dryRun: false, action, matched, limit: body.limit, operationId: id, statusUrl: `/v1/dlq/operations/${id}` });
  }));
  return router;
}

/** POST /v1/notifications/:id/redrive and /discard: an operator's answer to one dead letter. */
export function deadLetterActionRoutes(deps: DlqDeps): Router {
  const router = Router();

  router.post('/:id/redrive', documented(CONTRACTS.redrive, async (req, res) => {
    const body = parse(redriveSchema, req.body);
    const { alreadyRedriven } = await redriveNotification(deps, req.params.id, { ...body, by: requesterOf(res) });
    res.status(alreadyRedriven ? 200 : 202).json(await notificationDetail(deps.db, req.params.id));
  }));

  router.post('/:id/discard', documented(CONTRACTS.discard, async (req, res) => {
    const body = parse(discardSchema, req.body);
    await discardNotification(deps, req.params.id, { ...body, by: requesterOf(res) });
    res.json(await notificationDetail(deps.db, req.params.id));
  }));

  return router;
}
