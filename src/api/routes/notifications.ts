import { Router, type Request } from 'express';
import { z } from 'zod';
import { PENDING_STATUSES } from '../../../workflows/definitions';
import { countNotifications, listNotifications, matchingIds, type Cursor, type NotificationFilter } from '../../db/listing';
import { cancelNotification, changeNotification } from '../../notifications/control';
import { createNotification, type CreateDeps } from '../../notifications/create';
import {
  bulkCancelSchema,
  changeNotificationSchema,
  createNotificationSchema,
  listQuerySchema,
  type CreateNotificationRequest,
} from '../../notifications/request';
import { detailOf, notificationDetail, notificationView } from '../../notifications/view';
import { findNotification, notificationHistory, untouchedSinceAcceptance } from '../../db/notifications';
import { keysetCursor } from '../cursor';
import { requesterOf } from '../auth';
import { apiError } from '../errors';
import { documented, type Contract } from '../openapi';
import {
  bulkCancelAnswerSchema,
  createdNotificationSchema,
  notificationDetailSchema,
  notificationPageSchema,
  notificationWithLiveSchema,
} from '../responses';
import { parse } from '../validation';

function idempotencyKeyOf(req: Request, body: CreateNotificationRequest): string {
  const header = req.get('Idempotency-Key')?.trim();
  if (header === '') throw apiError(400, 'idempotency_key_invalid', 'Idempotency-Key must not be empty');
  if (header && body.idempotencyKey && header !== body.idempotencyKey) {
    throw apiError(400, 'idempotency_key_mismatch', 'the Idempotency-Key header and body field differ');
  }
  const key = header || body.idempotencyKey;
  if (!key) throw apiError(400, 'idempotency_key_missing', 'an Idempotency-Key header is required to create a notification');
  if (key.length > 255) throw apiError(400, 'idempotency_key_invalid', 'Idempotency-Key must be at most 255 characters');
  return key;
}

const cursor = keysetCursor('createdAt');

type FilterFields = Partial<Record<'userId' | 'type' | 'createdFrom' | 'createdTo' | 'scheduledFrom' | 'scheduledTo', string>>;
const date = (v?: string) => (v ? new Date(v) : undefined);
const toFilter = (f: FilterFields): NotificationFilter => ({
  userId: f.userId,
  type: f.type,
  createdFrom: date(f.createdFrom),
  createdTo: date(f.createdTo),
  scheduledFrom: date(f.scheduledFrom),
  scheduledTo: date(f.scheduledTo),
});

const BULK_CONCURRENCY = 8;

const idempotencyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({
      description:
        'Names this request: a repeat with the same key and body answers the same notification (200, Idempotency-Replay: true). Required here or as `idempotencyKey` in the body (the same value when both).',
    }),
});
const notificationPath = z.object({ id: z.string().meta({ description: 'The notification id (ntf_…).' }) });
const location = z.string().meta({ description: 'Where the notification can be read.' });
const notFound = { 404: 'No notification with this id.' };

const CONTRACTS = {
  create: {
    scope: 'client',
    summary: 'Schedule a notification',
    description:
      'Accepted once per Idempotency-Key (the header, or `idempotencyKey` in the body). Either `content` or `template`; `scheduledAt` within 366 days (now when omitted), `expiresAt` after it.',
    headers: idempotencyHeader,
    body: createNotificationSchema,
    responses: {
      202: {
        description: 'Accepted and scheduled.',
        schema: createdNotificationSchema,
        headers: z.object({ Location: location }),
        links: {
          read: { to: ['get', '/v1/notifications/{id}'], parameters: { id: '$response.body#/id' } },
          change: { to: ['patch', '/v1/notifications/{id}'], parameters: { id: '$response.body#/id' } },
          cancel: { to: ['delete', '/v1/notifications/{id}'], parameters: { id: '$response.body#/id' } },
        },
      },
      200: {
        description: 'A repeat of an accepted request: the same notification.',
        schema: createdNotificationSchema,
        headers: z.object({ Location: location, 'Idempotency-Replay': z.literal('true').meta({ description: 'Always `true` on a repeat.' }) }),
      },
    },
    errors: {
      409: 'The Idempotency-Key was used with a different body.',
      422: '`channel_not_configured`; `template_not_found`; `no_preferred_channel` (none of the recipient\'s preferred channels can carry the category); or `message_too_large`: the rendered message is over a channel\'s size limit (FCM 4,096 bytes of notification and data, Web Push 3,993 bytes of payload before encryption, SMS 90 or 2,000 EUC-KR bytes, KakaoTalk 1,000 characters), with `details.channel`, `size`, `limit` and `unit`; `kakao_template_required`: KakaoTalk sends only templates with a `providerTemplateId`; or `sms_unsupported_characters`: SMS carries EUC-KR only.',
      429: '`recipient_over_limit`: the recipient is over the delivery limit and its type refuses rather than defers (`overLimit: refuse`); or `rate_limited`: the API key made too many requests. `Retry-After` says when to try again.',
    },
  },
  list: {
    scope: 'client',
    summary: 'List notifications, newest first',
    query: listQuerySchema,
    responses: { 200: { description: 'One page.', schema: notificationPageSchema } },
  },
  read: {
    scope: 'client',
    summary: 'One notification: its record, transitions, attempts and live status',
    path: notificationPath,
    responses: { 200: { description: 'The notification.', schema: notificationWithLiveSchema } },
    errors: notFound,
  },
  cancel: {
    scope: 'client',
    summary: 'Cancel a pending notification',
    path: notificationPath,
    query: z.object({ note: z.string().optional().meta({ description: 'Why; recorded with the cancellation.' }) }),
    responses: { 200: { description: 'Cancelled, or already ended: the notification now.', schema: notificationDetailSchema } },
    errors: { ...notFound, 409: 'Too late: sending has begun.' },
  },
  change: {
    scope: 'client',
    summary: 'Reschedule a pending notification or replace its content',
    path: notificationPath,
    body: changeNotificationSchema,
    responses: { 200: { description: 'The notification now.', schema: notificationDetailSchema } },
    errors: { ...notFound, 409: 'Too late: sending has begun, or it has ended.' },
  },
  bulkCancel: {
    scope: 'admin',
    summary: 'Cancel every pending notification that matches a filter',
    description: 'A dry run (how many match, ten of their ids) unless `confirm: true`.',
    body: bulkCancelSchema,
    responses: { 200: { description: 'What matched; with `confirm`, what was cancelled.', schema: bulkCancelAnswerSchema } },
  },
} satisfies Record<string, Contract>;

export function notificationRoutes(deps: CreateDeps): Router {
  const router = Router();

  router.post('/', documented(CONTRACTS.create, async (req, res) => {
    const body = parse(createNotificationSchema, req.body);
    const { id, replay, replaced, detail: accepted } = await createNotification(deps, body, idempotencyKeyOf(req, body), requesterOf(res));
    const detail = accepted ?? (await notificationDetail(deps.db, id));
    if (replay) res.set('Idempotency-Replay', 'true');
    res.status(replay ? 200 : 202).location(`/v1/notifications/${id}`).json({ ...detail, replaced });
  }));

  router.get('/', documented(CONTRACTS.list, async (req, res) => {
    const q = parse(listQuerySchema, req.query, 'query');
    const { rows, next } = await listNotifications(
      deps.db,
      { ...toFilter(q), statuses: q.status },
      q.limit,
      q.cursor ? (cursor.decode(q.cursor) satisfies Cursor) : undefined,
    );
    res.json({ items: rows.map(notificationView), nextCursor: next ? cursor.encode(next) : null });
  }));

  router.get('/:id', documented(CONTRACTS.read, async (req, res) => {
    const row = await findNotification(deps.db, req.params.id);
    if (!row) throw apiError(404, 'notification_not_found', `no notification with id ${req.params.id}`);
    const detail = detailOf(row, await notificationHistory(deps.db, row.id));
    // A pending or sending notification also explains itself live: next wake-up, why deferred, targets so far.
    const live = ['SCHEDULED', 'DEFERRED', 'SENDING'].includes(row.status)
      ? await deps.temporal.status(row.id, untouchedSinceAcceptance(row) ? { scheduledAt: row.scheduledAt.toISOString() } : undefined)
      : undefined;
    const temporalUiUrl = deps.temporal.uiLink(detail.id);
    res.json({ ...detail, ...(live ? { live } : {}), ...(temporalUiUrl ? { temporalUiUrl } : {}) });
  }));

  router.delete('/:id', documented(CONTRACTS.cancel, async (req, res) => {
    await cancelNotification(deps, req.params.id, { note: typeof req.query.note === 'string' ? req.query.note : undefined, actor: requesterOf(res) });
    res.json(await notificationDetail(deps.db, req.params.id));
  }));

  router.patch('/:id', documented(CONTRACTS.change, async (req, res) => {
    await changeNotification(deps, req.params.id, parse(changeNotificationSchema, req.body), requesterOf(res));
    res.json(await notificationDetail(deps.db, req.params.id));
  }));

  return router;
}

/** POST /v1/notifications:bulkCancel — a dry run unless `confirm: true`. */
export function bulkCancelRoute(deps: CreateDeps): Router {
  const router = Router();
  router.post('/', documented(CONTRACTS.bulkCancel, async (req, res) => {
    const body = parse(bulkCancelSchema, req.body);
    const filter: NotificationFilter = { ...toFilter(body.filter), statuses: [...PENDING_STATUSES] };
    const matched = await countNotifications(deps.db, filter);
    const ids = await matchingIds(deps.db, filter, body.confirm ? body.limit : 10);
    if (!body.confirm) {
      res.json({ dryRun: true, matched, sampleIds: ids });
      return;
    }
    const results = { cancelled: [] as string[], tooLate: [] as string[], failed: [] as string[] };
    for (let i = 0; i < ids.length; i += BULK_CONCURRENCY) {
      await Promise.all(
        ids.slice(i, i + BULK_CONCURRENCY).map(async (id) => {
          try {
            await cancelNotification(deps, id, { note: 'bulk cancel', actor: requesterOf(res) });
            results.cancelled.push(id);
          } catch (err) {
            const status = (err as { status?: number }).status;
            (status === 409 ? results.tooLate : results.failed).push(id);
            if (status !== 409) deps.log.warn({ err, notificationId: id }, 'bulk cancel failed for one notification');
          }
        }),
      );
    }
    res.json({
      dryRun: false,
      matched,
      cancelled: results.cancelled.length,
      tooLate: results.tooLate.length,
      failed: results.failed.length,
      remaining: Math.max(0, matched - ids.length),
      sampleIds: results.cancelled.slice(0, 10),
    });
  }));
  return router;
}
