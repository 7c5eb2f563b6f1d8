import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  customType,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Channel, Content, Metadata, NotificationStatus, Routing } from '../workflows/definitions';

/**
 * A `timestamptz` read as a Date. Postgres writes it as `0017-11-29 19:54:32.7+00`, which `new Date`
 * misreads before the year 100 (`0099-…` becomes 1999, `0017-…` is invalid): it is turned into
 * ISO-8601 first, which every year from 1 to 9999 survives.
 */
const instant = customType<{ data: Date; driverData: string | Date }>({
  dataType: () => 'timestamp with time zone',
  toDriver: (value) => value.toISOString(),
  fromDriver: (value) => (value instanceof Date ? value : new Date(isoFromPostgres(value))),
});

/** `2027-01-31 21:30:00.5+09` or `…+05:30` → `2027-01-31T21:30:00.5+09:00`; anything else as it is. */
export function isoFromPostgres(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?(?::\d{2})?$/.exec(text);
  return match ? `${match[1]}T${match[2]}${match[3]}:${match[4] ?? '00'}` : text;
}

/** The queryable projection of every notification; Temporal holds what is in flight. */
export const notifications = pgTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    /** Outlives Temporal's retention: the durable half of the idempotency guarantee. */
    idempotencyKey: text('idempotency_key').notNull(),
    requestFingerprint: text('request_fingerprint').notNull(),
    workflowId: text('workflow_id').notNull(),
    userId: text('user_id').notNull(),
    type: text('type').notNull(),
    category: text('category').notNull(),
    status: text('status').$type<NotificationStatus>().notNull(),
    statusReason: text('status_reason'),
    /** `seq` of the transition that set `status`: an older transition landing late cannot roll it back. */
    statusSeq: integer('status_seq').notNull().default(0),
    channels: jsonb('channels').$type<Channel[]>().notNull(),
    routing: text('routing').$type<Routing>().notNull(),
    content: jsonb('content').$type<Content>().notNull(),
    collapseKey: text('collapse_key'),
    metadata: jsonb('metadata').$type<Metadata>(),
    scheduledAt: instant('scheduled_at').notNull(),
    expiresAt: instant('expires_at'),
    replacedBy: text('replaced_by'),
    sendingStartedAt: instant('sending_started_at'),
    completedAt: instant('completed_at'),
    /** A FAILED notification an operator marked as handled: it leaves the dead-letter list, and stays. */
    discardedAt: instant('discarded_at'),
    createdAt: instant('created_at').notNull().default(sql`now()`),
    updatedAt: instant('updated_at').notNull().default(sql`now()`),
  },
  (t) => [
    uniqueIndex('notifications_idempotency_key_uq').on(t.idempotencyKey),
    // The dead-letter list: FAILED and not discarded, newest failure first.
    index('notifications_dlq_idx').on(t.completedAt, t.id).where(sql`${t.status} = 'FAILED' and ${t.discardedAt} is null`),
    index('notifications_user_status_idx').on(t.userId, t.status),
    index('notifications_status_scheduled_idx').on(t.status, t.scheduledAt),
    index('notifications_created_idx').on(t.createdAt, t.id),
    index('notifications_user_collapse_idx').on(t.userId, t.collapseKey),
  ],
);

/** Every status change, in order; `seq` comes from the workflow so activity retries cannot duplicate rows. */
export const notificationTransitions = pgTable(
  'notification_transitions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    notificationId: text('notification_id')
      .notNull()
      .references(() => notifications.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    fromStatus: text('from_status').$type<NotificationStatus>(),
    toStatus: text('to_status').$type<NotificationStatus>().notNull(),
    reason: text('reason'),
    details: jsonb('details').$type<Record<string, unknown>>(),
    at: instant('at').notNull(),
    /** The API key (its id) whose request this transition carries out; null for Herald's own steps. */
    actor: text('actor'),
  },
  (t) => [uniqueIndex('notification_transitions_seq_uq').on(t.notificationId, t.seq)],
);

/** Where a user can be reached: device tokens, push subscriptions, webhook URLs, chat ids. */
export const targets = pgTable(
  'targets',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    channel: text('channel').$type<Channel>().notNull(),
    /** Token, endpoint, URL or chat id. Never logged whole. */
    address: text('address').notNull(),
    /** Channel-specific secrets (webhook signing secret, Web Push keys). Never logged. */
    secrets: jsonb('secrets').$type<Record<string, string>>(),
    label: text('label'),
    /** Email addresses: whether the client confirmed the address is the user's (sending does not require it). */
    verified: boolean('verified').notNull().default(false),
    disabledAt: instant('disabled_at'),
    disabledReason: text('disabled_reason'),
    createdAt: instant('created_at').notNull().default(sql`now()`),
    updatedAt: instant('updated_at').notNull().default(sql`now()`),
  },
  (t) => [
    uniqueIndex('targets_user_channel_address_uq').on(t.userId, t.channel, t.address),
    index('targets_user_channel_idx').on(t.userId, t.channel).where(sql`${t.disabledAt} is null`),
  ],
);

/** One row per provider call: the attempt log an operator reads when a push went missing. */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    notificationId: text('notification_id')
      .notNull()
      .references(() => notifications.id, { onDelete: 'cascade' }),
    targetId: text('target_id').notNull(),
    channel: text('channel').$type<Channel>().notNull(),
    /** Shortened token/endpoint/URL: enough to recognise, never the whole credential. */
    targetHint: text('target_hint').notNull(),
    attempt: integer('attempt').notNull(),
    outcome: text('outcome').notNull(),
    providerMessageId: text('provider_message_id'),
    httpStatus: integer('http_status'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    rendered: jsonb('rendered').$type<{ title?: string; body: string }>(),
    startedAt: instant('started_at').notNull(),
    finishedAt: instant('finished_at').notNull(),
  },
  (t) => [index('delivery_attempts_notification_idx').on(t.notificationId, t.startedAt)],
);

export type QuietHoursPolicy = 'defer' | 'drop' | 'bypass';
export const OVER_LIMIT = ['defer', 'refuse'] as const;
export type OverLimit = (typeof OVER_LIMIT)[number];

/** What the recipient asked for; read at the due time, never copied into the workflow. */
export const userPreferences = pgTable('user_preferences', {
  userId: text('user_id').primaryKey(),
  timeZone: text('time_zone'),
  quietHours: jsonb('quiet_hours').$type<{ start: string; end: string }>(),
  optedOutCategories: jsonb('opted_out_categories').$type<string[]>().notNull().default([]),
  /** The channels a notification with `channels: "preferred"` goes to, in this order. */
  preferredChannels: jsonb('preferred_channels').$type<Channel[]>().notNull().default([]),
  /** Per category, channels left out of the preferred ones. */
  disabledChannels: jsonb('disabled_channels').$type<Record<string, Channel[]>>().notNull().default({}),
  locale: text('locale'),
  lastActiveAt: instant('last_active_at'),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
});

/** Per notification type: the recent-activity window, the replacement window and its delivery switch. */
export const typeSettings = pgTable('type_settings', {
  type: text('type').primaryKey(),
  activeWindowMinutes: integer('active_window_minutes'),
  replaceWindowMinutes: integer('replace_window_minutes'),
  deliveryEnabled: boolean('delivery_enabled').notNull().default(true),
  /** A recipient over the throttle's limit: `defer` the notification at its due time, or `refuse` it at create (429). */
  overLimit: text('over_limit').$type<OverLimit>().notNull().default('defer'),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
});

/** Per category: what quiet hours do to it. */
export const categorySettings = pgTable('category_settings', {
  category: text('category').primaryKey(),
  quietHours: text('quiet_hours').$type<QuietHoursPolicy>().notNull(),
  /** Mandatory (security alerts, legal notices): a recipient cannot opt out, and an earlier opt-out does not hold it back. */
  mandatory: boolean('mandatory').notNull().default(false),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
});

/**
 * Per channel: quiet hours that apply to every recipient on top of their own, read in the recipient's
 * time zone (e.g. no KakaoTalk or SMS 21:00–08:00). A category's quiet-hours policy applies to them.
 */
export const channelSettings = pgTable('channel_settings', {
  channel: text('channel').$type<Channel>().primaryKey(),
  quietHours: jsonb('quiet_hours').$type<{ start: string; end: string }>(),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
});

/** Service-wide switches (the global delivery switch). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').$type<unknown>().notNull(),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
});

/** Recipient throttle: one token bucket per user × channel. */
export const throttleBuckets = pgTable(
  'throttle_buckets',
  {
    userId: text('user_id').notNull(),
    channel: text('channel').$type<Channel>().notNull(),
    tokens: doublePrecision('tokens').notNull(),
    updatedAt: instant('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.channel] })],
);

/** Mustache templates per (key, locale, channel); channel `default` serves every channel without its own. */
export const templates = pgTable(
  'templates',
  {
    key: text('key').notNull(),
    locale: text('locale').notNull(),
    channel: text('channel').notNull(),
    title: text('title'),
    body: text('body').notNull(),
    /** Email's HTML part; mustache with HTML escaping, unlike the text parts. */
    html: text('html'),
    /** KakaoTalk Alimtalk: the provider's id of the approved template this text must match. */
    providerTemplateId: text('provider_template_id'),
    updatedAt: instant('updated_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.key, t.locale, t.channel] })],
);

/** Who changed an operator setting (switch, type, category, template), when, and to what. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: instant('at').notNull().default(sql`now()`),
    /** The API key's id (`key:` + a hash prefix), or `anonymous` when the API runs without keys. */
    actor: text('actor').notNull(),
    /** What was done: `type.put`, `type.patch`, `category.put`, `delivery.switch`, `template.put`. */
    action: text('action').notNull(),
    /** What it was done to: the type, the category, `delivery`, or `key/locale/channel` of a template. */
    subject: text('subject').notNull(),
    /** The change as the API applied it (the validated request body). */
    change: jsonb('change').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('audit_log_subject_idx').on(t.subject, t.id)],
);

export type ApiKeyScope = 'client' | 'admin';

/**
 * API keys made through the API (`API_KEYS` from the environment are the bootstrap admin keys). Only
 * the SHA-256 of a key is kept, and its first characters to recognise it by; revoked keys stay, so
 * the audit log's actors keep a name.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    /** `key:` + the first 12 hex digits of the key's SHA-256, the id logs and audit records use. */
    id: text('id').primaryKey(),
    digest: text('digest').notNull(),
    /** The key's first characters, shown in listings so a person can tell keys apart. */
    prefix: text('prefix').notNull(),
    scope: text('scope').$type<ApiKeyScope>().notNull(),
    name: text('name').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: instant('created_at').notNull().default(sql`now()`),
    revokedAt: instant('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_digest_idx').on(t.digest)],
);
