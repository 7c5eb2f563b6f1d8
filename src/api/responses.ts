import { z } from 'zod';
import { CHANNELS, STATUSES } from '../../workflows/definitions';

// What the API answers, for the OpenAPI document. Requests are described by the schemas the routes
// validate with; these describe the JSON the views build, and the API-contract test checks every
// answer against them.

const instant = z.iso.datetime({ offset: true });
const channel = z.enum(CHANNELS);
const status = z.enum(STATUSES);

const targetResult = z.object({
  channel,
  targetId: z.string(),
  target: z.string().meta({ description: 'Shortened address, safe to show.' }),
  outcome: z.enum(['delivered', 'failed', 'skipped']),
  errorType: z.string().optional(),
  message: z.string().optional(),
});

const content = z
  .union([
    z.object({ title: z.string().optional(), body: z.string(), data: z.record(z.string(), z.string()).optional(), url: z.string().optional() }),
    z.object({ template: z.object({ key: z.string(), locale: z.string().optional(), data: z.record(z.string(), z.unknown()).optional() }) }),
  ])
  .meta({ description: 'Inline text, or the template reference it was created with.' });

export const notificationSchema = z
  .object({
    id: z.string(),
    idempotencyKey: z.string(),
    status,
    statusReason: z.string().nullable(),
    userId: z.string(),
    type: z.string(),
    category: z.string(),
    channels: z.array(channel),
    routing: z.enum(['all', 'fallback']),
    content,
    collapseKey: z.string().nullable(),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
    scheduledAt: instant,
    expiresAt: instant.nullable(),
    replacedBy: z.string().nullable(),
    sendingStartedAt: instant.nullable(),
    completedAt: instant.nullable(),
    discardedAt: instant.nullable(),
    createdAt: instant,
    updatedAt: instant,
  })
  .meta({ id: 'Notification' });

export const notificationDetailSchema = notificationSchema
  .extend({
    transitions: z.array(
      z.object({
        from: status.nullable(),
        to: status,
        reason: z.string().nullable(),
        details: z.unknown(),
        at: instant,
        actor: z.string().nullable().meta({ description: "The API key (its id) whose request this transition carries out; null for Herald's own steps." }),
      }),
    ),
    attempts: z.array(
      z.object({
        channel,
        targetId: z.string().nullable(),
        target: z.string().nullable(),
        attempt: z.number().int(),
        outcome: z.string(),
        providerMessageId: z.string().nullable(),
        httpStatus: z.number().int().nullable(),
        errorCode: z.string().nullable(),
        errorMessage: z.string().nullable(),
        rendered: z.unknown(),
        startedAt: instant,
        finishedAt: instant.nullable(),
      }),
    ),
  })
  .meta({ id: 'NotificationDetail', description: 'A notification with its transition log and attempt log.' });

export const liveStatusSchema = z
  .object({
    notificationId: z.string(),
    phase: status,
    reason: z.string().optional(),
    nextWakeAt: instant.optional(),
    scheduledAt: instant,
    deferReason: z.enum(['quiet_hours', 'channel_quiet_hours', 'throttled', 'delivery_off']).optional(),
    sendingStartedAt: instant.optional(),
    replacedBy: z.string().optional(),
    targets: z.array(targetResult),
  })
  .meta({
    id: 'LiveStatus',
    description:
      "The running workflow's own answer: next wake-up, why deferred, targets so far. For a run still waiting on its start delay (it has run no code yet), the accepted state, once Temporal confirms the wait.",
  });

export const createdNotificationSchema = notificationDetailSchema
  .extend({ replaced: z.array(z.string()).meta({ description: 'Older notifications this one replaced (collapse key or replacement window).' }) })
  .meta({ id: 'CreatedNotification' });

export const notificationWithLiveSchema = notificationDetailSchema
  .extend({
    live: liveStatusSchema.optional(),
    temporalUiUrl: z.url().optional().meta({ description: "The workflow's history in the Temporal Web UI, when one is configured." }),
  })
  .meta({ id: 'NotificationWithLiveStatus' });

const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }) });

export const notificationPageSchema = page(notificationSchema);

export const deadLetterPageSchema = page(notificationSchema.extend({ failedAt: instant.nullable(), targets: z.array(targetResult) }));

export const deadLetterStatsSchema = z.object({
  per: z.enum(['hour', 'day']),
  total: z.number().int(),
  counts: z.array(z.object({ channel: z.string(), errorType: z.string(), period: z.string(), count: z.number().int() })),
});

const dryRun = { dryRun: z.literal(true), matched: z.number().int(), sampleIds: z.array(z.string()) };

export const bulkCancelAnswerSchema = z.union([
  z.object(dryRun),
  z.object({
    dryRun: z.literal(false),
    matched: z.number().int(),
    cancelled: z.number().int(),
    tooLate: z.number().int(),
    failed: z.number().int(),
    remaining: z.number().int(),
    sampleIds: z.array(z.string()),
  }),
]);

const deadLetterAction = z.enum(['redrive', 'discard']);
export const bulkDeadLetterDryRunSchema = z.object({ ...dryRun, action: deadLetterAction });
export const bulkDeadLetterStartedSchema = z.object({
  dryRun: z.literal(false),
  action: deadLetterAction,
  matched: z.number().int(),
  limit: z.number().int(),
  operationId: z.string(),
  statusUrl: z.string(),
});

export const deadLetterOperationSchema = z.object({
  operationId: z.string(),
  action: deadLetterAction,
  state: z.enum(['running', 'completed', 'gave_up']),
  done: z.number().int(),
  failed: z.number().int(),
  failedIds: z.array(z.string()),
});

export const preferencesSchema = z
  .object({
    userId: z.string(),
    timeZone: z.string().nullable(),
    quietHours: z.object({ start: z.string(), end: z.string() }).nullable(),
    optedOutCategories: z.array(z.string()),
    preferredChannels: z.array(channel),
    disabledChannels: z.record(z.string(), z.array(channel)),
    locale: z.string().nullable(),
    lastActiveAt: instant.nullable(),
  })
  .meta({ id: 'Preferences' });

export const activityAnswerSchema = z.object({ userId: z.string(), lastActiveAt: instant });

export const targetSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    channel,
    target: z.string().meta({ description: 'Shortened address, safe to show.' }),
    label: z.string().nullable(),
    disabledAt: instant.nullable(),
    disabledReason: z.string().nullable(),
    verified: z.boolean().meta({ description: 'Email addresses: whether the client confirmed the address belongs to the user. Sending does not require it.' }),
    createdAt: instant,
    updatedAt: instant,
  })
  .meta({ id: 'Target' });

export const registeredTargetSchema = targetSchema
  .extend({
    url: z.string().optional().meta({ description: 'Webhooks only: the endpoint.' }),
    secret: z.string().optional().meta({ description: 'Webhooks only: the signing secret (Standard Webhooks), to verify deliveries with.' }),
  })
  .meta({ id: 'RegisteredTarget' });

export const targetListSchema = z.object({ items: z.array(targetSchema) });

export const templateSchema = z
  .object({ key: z.string(), locale: z.string(), channel: z.string(), title: z.string().nullable(), body: z.string(), html: z.string().nullable(), providerTemplateId: z.string().nullable(), updatedAt: instant })
  .meta({ id: 'Template' });

export const typeSettingsSchema = z
  .object({
    type: z.string(),
    activeWindowMinutes: z.number().int().nullable(),
    replaceWindowMinutes: z.number().int().nullable(),
    deliveryEnabled: z.boolean(),
    overLimit: z.enum(['defer', 'refuse']),
    updatedAt: instant.nullable().meta({ description: 'Null: nobody configured this type; these are the defaults.' }),
  })
  .meta({ id: 'TypeSettings' });

export const categorySettingsSchema = z
  .object({
    category: z.string(),
    quietHours: z.enum(['defer', 'drop', 'bypass']),
    mandatory: z.boolean(),
    updatedAt: instant.nullable().meta({ description: 'Null: nobody configured this category; these are the defaults.' }),
  })
  .meta({ id: 'CategorySettings' });

export const channelSettingsSchema = z
  .object({
    channel: z.enum(CHANNELS),
    quietHours: z.object({ start: z.string(), end: z.string() }).nullable(),
    updatedAt: instant.nullable().meta({ description: 'Null: nobody configured this channel.' }),
  })
  .meta({ id: 'ChannelSettings' });

export const deliverySwitchSchema = z.object({ enabled: z.boolean() });

export const auditPageSchema = page(
  z.object({ id: z.number().int(), at: instant, actor: z.string(), action: z.string(), subject: z.string(), change: z.record(z.string(), z.unknown()) }),
);

export const healthSchema = z.object({ status: z.literal('ok') });
export const readinessSchema = z.object({ status: z.enum(['ready', 'not_ready']), temporal: z.boolean(), database: z.boolean() });

export const apiKeySchema = z
  .object({
    id: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the key, to tell keys apart.' }),
    scope: z.enum(['client', 'admin']),
    name: z.string(),
    createdBy: z.string(),
    createdAt: instant,
    revokedAt: instant.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = apiKeySchema
  .extend({ key: z.string().meta({ description: 'The key: shown in this answer only, never again.' }) })
  .meta({ id: 'CreatedApiKey' });
