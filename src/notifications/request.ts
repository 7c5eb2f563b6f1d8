import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import { z } from 'zod';
import { CHANNELS, STATUSES } from '../../workflows/definitions';
import { identifier, instant, locale } from '../api/validation';

const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600 * 1000;

/** `channels: "preferred"`: the recipient's own choice of channels. */
export const PREFERRED = 'preferred';

const inlineContent = z
  .object({
    title: z.string().max(200, 'title must be at most 200 characters').optional(),
    body: z.string({ error: 'body must be a string' }).min(1, 'body must not be empty').max(4000, 'body must be at most 4000 characters'),
    data: z.record(z.string(), z.string(), { error: 'data must map strings to strings' }).optional(),
    url: z.url({ error: 'url must be an absolute URL' }).optional(),
  })
  .strict();

const templateRef = z
  .object({
    key: identifier('template key', 100),
    locale: locale('template locale')
      .optional(),
    data: z.record(z.string(), z.unknown(), { error: 'template data must be an object' }).optional(),
  })
  .strict();

/** POST /v1/notifications. Unknown fields are refused so that a typo cannot silently change meaning. */
export const createNotificationSchema = z
  .object({
    idempotencyKey: z.string().min(1).max(255).optional(),
    userId: identifier('userId'),
    type: identifier('type', 100).default('general'),
    category: identifier('category', 100).optional(),
    channels: z
      .union(
        [
          z
            .array(z.enum(CHANNELS, { error: `channel must be one of ${CHANNELS.join(', ')}` }))
            .min(1, 'channels must name at least one channel')
            .refine((list) => new Set(list).size === list.length, 'channels must not repeat a channel')
            .meta({ uniqueItems: true }),
          z.literal(PREFERRED),
        ],
        { error: 'channels must be an array of channel names, or "preferred"' },
      )
      .default(PREFERRED)
      .meta({ description: 'The channels to send on, or `"preferred"` (the default): the recipient\'s preferred channels, resolved when the notification is created.' }),
    routing: z
      .enum(['all', 'fallback'], { error: 'routing must be "all" or "fallback"' })
      .optional()
      .meta({ description: '`all` at once, or `fallback` in order until one delivers. Default: `fallback` for preferred channels, `all` otherwise.' }),
    scheduledAt: instant('scheduledAt').optional(),
    expiresAt: instant('expiresAt').optional(),
    content: inlineContent.optional(),
    template: templateRef.optional(),
    collapseKey: z.string().min(1).max(200).optional(),
    metadata: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]), {
        error: 'metadata must map strings to strings, numbers, booleans or null',
      })
      .optional(),
  })
  .strict()
  .meta({ oneOf: [{ required: ['content'] }, { required: ['template'] }] })
  .superRefine((req, ctx) => {
    if ((req.content === undefined) === (req.template === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['content'], message: 'give either content (inline text) or template, not both' });
    }
    const now = Date.now();
    if (req.scheduledAt && Date.parse(req.scheduledAt) > now + MAX_SCHEDULE_AHEAD_MS) {
      ctx.addIssue({ code: 'custom', path: ['scheduledAt'], message: 'scheduledAt must be within 366 days' });
    }
    if (req.expiresAt && Date.parse(req.expiresAt) <= Date.parse(req.scheduledAt ?? new Date(now).toISOString())) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'expiresAt must be after scheduledAt' });
    }
   })
  // Defaults belong to the request before fingerprinting: naming the default category is the same request.
  .transform((req) => ({ ...req, category: req.category ?? req.type, routing: req.routing ?? (req.channels === PREFERRED ? ('fallback' as const) : ('all' as const)) }));

export type CreateNotificationRequest = z.output<typeof createNotificationSchema>;

/**
 * Identifies "the same request" for idempotency: the parsed, normalised body (defaults applied,
 * times in UTC, keys sorted), so formatting differences do not count as a different body.
 */
export function requestFingerprint(request: CreateNotificationRequest): string {
  const { idempotencyKey: _key, ...meaningful } = request;
  return createHash('sha256').update(stringify(meaningful) ?? '').digest('hex');
}

/** PATCH /v1/notifications/:id: a new due time, new content, or both. */
export const changeNotificationSchema = z
  .object({ scheduledAt: instant('scheduledAt').optional(), content: inlineContent.optional() })
  .strict()
  .refine((c) => c.scheduledAt !== undefined || c.content !== undefined, 'give scheduledAt, content or both')
  .meta({ minProperties: 1 })
  .refine((c) => !c.scheduledAt || Date.parse(c.scheduledAt) <= Date.now() + MAX_SCHEDULE_AHEAD_MS, {
    path: ['scheduledAt'],
    message: 'scheduledAt must be within 366 days',
  });

const statusList = z
  .string()
  .meta({ pattern: `^(${STATUSES.join('|')})(,(${STATUSES.join('|')}))*$`, description: 'Comma-separated statuses.' })
  .transform((v) => v.split(',').map((s) => s.trim()))
  .pipe(z.array(z.enum(STATUSES, { error: `status must be one of ${STATUSES.join(', ')}` })));

const filterFields = {
  userId: identifier('userId').optional(),
  type: identifier('type', 100).optional(),
  createdFrom: instant('createdFrom').optional(),
  createdTo: instant('createdTo').optional(),
  scheduledFrom: instant('scheduledFrom').optional(),
  scheduledTo: instant('scheduledTo').optional(),
};

/** GET /v1/notifications query string. */
export const listQuerySchema = z
  .object({
    ...filterFields,
    status: statusList.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().optional(),
  })
  .strict();

/** POST /v1/notifications:bulkCancel: only pending notifications are ever touched. */
export const bulkCancelSchema = z
  .object({
    filter: z
      .object(filterFields)
      .strict()
      .refine((f) => Object.values(f).some((v) => v !== undefined), 'filter must name at least one criterion')
      .meta({ minProperties: 1 }),
    confirm: z.boolean().default(false),
    limit: z.number().int().min(1).max(10_000).default(1000),
  })
  .strict();
