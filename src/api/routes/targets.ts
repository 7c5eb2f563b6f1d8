import { Router } from 'express';
import { z } from 'zod';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Channel } from '../../../workflows/definitions';
import { generateWebhookSecret, isWebhookSecret, WEBHOOK_SECRET_PATTERN } from '../../channels/signature';
import { targetHint } from '../../channels/types';
import { isAllowedPushEndpoint } from '../../channels/webpush';
import { checkOutboundUrl, OutboundRefused, type OutboundPolicy, type Resolve } from '../../net/outbound';
import type { Database } from '../../db';
import { deleteTarget, releaseFromOtherUsers, upsertTarget, userTargets, type TargetRegistration, type TargetRow } from '../../db/targets';
import { apiError } from '../errors';
import { documented, type Contract } from '../openapi';
import { registeredTargetSchema, targetListSchema } from '../responses';
import { identifier, parse } from '../validation';

export interface TargetRouteDeps {
  db: Database;
  /** Region for phone numbers registered without a country code (PHONE_DEFAULT_COUNTRY). */
  phoneDefaultCountry: string;
  webPushAllowedHosts: string[];
  outbound: OutboundPolicy;
  resolve?: Resolve;
}

interface TargetKind<S extends z.ZodType> {
  channel: Channel;
  path: string;
  schema: S;
  /** Device-bound addresses move with the device: registering one for a user takes it from any other user. */
  exclusive: boolean;
  registration(body: z.output<S>, deps: TargetRouteDeps): Omit<TargetRegistration, 'userId' | 'channel'>;
  /** The URL Herald will connect to for this target, when the user supplies one: checked against the outbound policy. */
  outboundUrl?(body: z.output<S>): string;
}

const kind = <S extends z.ZodType>(k: TargetKind<S>) => k;

const label = z.string().max(100).optional();
const base64url = (what: string) => z.string().regex(/^[A-Za-z0-9_-]+=*$/, `${what} must be base64url`).min(16).max(200);

/** Lower-cases the domain (case-insensitive by definition); the local part is the mailbox owner's to interpret. */
function normalisedEmail(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

const phoneSchema = z
  .object({
    number: z
      .string()
      .min(3)
      .max(32)
      .meta({ description: 'E.164 (`+821012345678`), or national (`010-1234-5678`) in PHONE_DEFAULT_COUNTRY; stored as E.164.' }),
    label,
  })
  .strict();

/** E.164, or a 400 naming the rule: SMS and KakaoTalk providers take only numbers that can exist. */
function e164(number: string, defaultCountry: string): string {
  const parsed = parsePhoneNumberFromString(number, defaultCountry as CountryCode);
  if (!parsed?.isValid()) {
    const message = `must be a valid phone number (E.164, or national in ${defaultCountry})`;
    throw apiError(400, 'validation_failed', `invalid body: number: ${message}`, [{ field: 'number', message }]);
  }
  return parsed.number;
}

/** The kinds of recipient target, each registered with its own natural payload. */
const KINDS = [
  kind({
    channel: 'fcm',
    path: 'devices',
    exclusive: true,
    schema: z
      .object({
        token: z.string().min(20, 'token must be an FCM registration token').max(1024, 'token must be at most 1024 characters'),
        platform: z.enum(['android', 'ios', 'web']).optional(),
        label,
      })
      .strict(),
    registration: (b) => ({ address: b.token, label: b.label ?? b.platform }),
  }),
  kind({
    channel: 'webpush',
    path: 'web-push-subscriptions',
    exclusive: true,
    // The browser's PushSubscription.toJSON(), as is.
    schema: z
      .object({
        endpoint: z.url({ protocol: /^https?$/, error: 'endpoint must be the subscription URL' }).max(2048, 'endpoint must be at most 2048 characters'),
        expirationTime: z.number().nullable().optional(),
        keys: z.object({ p256dh: base64url('keys.p256dh'), auth: base64url('keys.auth').min(16) }).strict(),
        label,
      })
      .strict(),
    registration: (b, deps) => {
      if (!isAllowedPushEndpoint(b.endpoint, deps.webPushAllowedHosts)) {
        throw apiError(422, 'endpoint_not_allowed', 'endpoint is not a known Web Push service (see WEB_PUSH_ALLOWED_HOSTS)');
      }
      return { address: b.endpoint, secrets: { p256dh: b.keys.p256dh, auth: b.keys.auth }, label: b.label };
    },
    outboundUrl: (b) => b.endpoint,
  }),
  kind({
    channel: 'webhook',
    path: 'webhooks',
    exclusive: false,
    schema: z
      .object({
        url: z.url({ protocol: /^https?$/, error: 'url must be an absolute http(s) URL' }).max(2048, 'url must be at most 2048 characters'),
        secret: z
          .string()
          .refine(isWebhookSecret, 'secret must be "whsec_" followed by at least 16 base64-encoded bytes')
          .meta({ pattern: WEBHOOK_SECRET_PATTERN.source })
          .optional(),
        label,
      })
      .strict(),
    // Without a secret of the client's own, a new endpoint gets a generated one and an existing one keeps its own.
    registration: (b) => ({
      address: b.url,
      secrets: { signingSecret: b.secret ?? generateWebhookSecret() },
      keepExistingSecrets: !b.secret,
      label: b.label,
    }),
    outboundUrl: (b) => b.url,
  }),
  kind({
    channel: 'telegram',
    path: 'telegram-chats',
    exclusive: false,
    schema: z
      .object({
        chatId: z.union([z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{5,})$/, 'chatId must be a numeric chat id or @channelname'), z.number().int()]),
        label,
      })
      .strict(),
    registration: (b) => ({ address: String(b.chatId), label: b.label }),
  }),
  kind({
    channel: 'email',
    path: 'email-addresses',
    exclusive: false,
    schema: z
      .object({
        address: z
          .email({ error: 'address must be an email address' })
          .max(254, 'address must be at most 254 characters')
          // SMTP's own limit (RFC 5321), which a mail server would otherwise refuse at send time.
          .refine((a) => a.lastIndexOf('@') <= 64, 'the part before @ must be at most 64 characters'),
        verified: z.boolean().optional().meta({ description: 'Whether you confirmed the address is the user\'s; Herald does not verify addresses itself. A new address starts unverified.' }),
        label,
      })
      .strict(),
    registration: (b) => ({ address: normalisedEmail(b.address), verified: b.verified, label: b.label }),
  }),
  kind({
    channel: 'sms',
    path: 'sms-numbers',
    exclusive: false,
    schema: phoneSchema,
    registration: (b, deps) => ({ address: e164(b.number, deps.phoneDefaultCountry), label: b.label }),
  }),
  kind({
    channel: 'kakao',
    path: 'kakao-numbers',
    exclusive: false,
    schema: phoneSchema,
    registration: (b, deps) => ({ address: e164(b.number, deps.phoneDefaultCountry), label: b.label }),
  }),
];

/** How a target looks in answers: shortened address, never its secrets (a webhook's own signing secret aside). */
function targetView(row: TargetRow, withSecret = false) {
  return {
    id: row.id,
    userId: row.userId,
    channel: row.channel,
    target: targetHint(row.address),
    label: row.label,
    disabledAt: row.disabledAt,
    disabledReason: row.disabledReason,
    verified: row.verified,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    ...(withSecret && row.channel === 'webhook' ? { url: row.address, secret: row.secrets?.signingSecret } : {}),
  };
}

const userIdParam = identifier('user id');

/**
 * A URL that leads (or whose host resolves) where Herald may not connect is refused here, and again
 * at every send. A name that does not resolve yet is accepted: its DNS may be on the way, and a send
 * checks it when it does.
 */
const REGISTRATION_DNS_WAIT_MS = 2000;

async function refuseForbiddenUrl(url: string, { outbound, resolve }: TargetRouteDeps): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  // A resolver that does not answer within the time a client waits is treated like a name that does not resolve yet.
  const slowDns = new Promise<void>((settle) => (timer = setTimeout(settle, REGISTRATION_DNS_WAIT_MS)));
  try {
    await Promise.race([checkOutboundUrl(url, outbound, resolve), slowDns]);
  } catch (err) {
    if (err instanceof OutboundRefused) {
      throw apiError(422, 'url_not_allowed', `${err.message}: Herald connects only to public addresses (see OUTBOUND_ALLOWED_NETWORKS)`);
    }
    if ((err as NodeJS.ErrnoException).code !== 'ENOTFOUND') throw err;
  } finally {
    clearTimeout(timer);
  }
}

const userPath = z.object({ userId: userIdParam });

const registerContract = (k: TargetKind<z.ZodType>): Contract => ({
  scope: 'client',
  summary: `Register a ${k.channel} target (${k.path}) for a user`,
  description: k.exclusive
    ? 'Device-bound: registering it for this user takes it from any other user. Registering it again updates it.'
    : 'Registering the same address again updates it.',
  path: userPath,
  body: k.schema,
  responses: {
    201: {
      description: 'Registered.',
      schema: registeredTargetSchema,
      links: {
        remove: { to: ['delete', `/v1/users/{userId}/${k.path}/{target}`], parameters: { userId: '$request.path.userId', target: '$response.body#/id' } },
        list: { to: ['get', '/v1/users/{userId}/targets'], parameters: { userId: '$request.path.userId' } },
      },
    },
    200: { description: 'Already registered: updated.', schema: registeredTargetSchema },
  },
  ...(k.outboundUrl
    ? { errors: { 422: `The ${k.channel === 'webpush' ? 'endpoint is not a known Web Push service, or it' : 'URL'} leads to an address Herald may not connect to (private, loopback, link-local…) or is not https.` } }
    : {}),
});

const deleteContract = (k: TargetKind<z.ZodType>): Contract => ({
  scope: 'client',
  summary: `Remove a ${k.channel} target (${k.path}) of a user`,
  path: userPath.extend({ target: z.string().meta({ description: 'The target id, or its address (token, endpoint, URL, chat id).' }) }),
  responses: { 204: { description: 'Removed.' } },
  errors: { 404: 'The user has no such target.' },
});

const CONTRACTS = {
  list: {
    scope: 'client',
    summary: "Every target of a user, disabled ones with the reason",
    path: userPath,
    responses: { 200: { description: 'The targets, oldest first.', schema: targetListSchema } },
  },
} satisfies Record<string, Contract>;

export function targetRoutes(deps: TargetRouteDeps): Router {
  const router = Router();
  const { db } = deps;

  for (const k of KINDS) {
    router.post(`/:userId/${k.path}`, documented(registerContract(k), async (req, res) => {
      const userId = parse(userIdParam, req.params.userId, 'user id');
      const body = parse(k.schema, req.body);
      const reg = (k.registration as (b: unknown, d: TargetRouteDeps) => Omit<TargetRegistration, 'userId' | 'channel'>)(body, deps);
      const url = (k.outboundUrl as ((b: unknown) => string) | undefined)?.(body);
      if (url) await refuseForbiddenUrl(url, deps);
      const { row, created } = await db.transaction(async (tx) => {
        if (k.exclusive) await releaseFromOtherUsers(tx, userId, k.channel, reg.address);
        return upsertTarget(tx, { userId, channel: k.channel, ...reg });
      });
      res.status(created ? 201 : 200).json(targetView(row, true));
    }));

    router.delete(`/:userId/${k.path}/:target`, documented(deleteContract(k), async (req, res) => {
      const userId = parse(userIdParam, req.params.userId, 'user id');
      if (!(await deleteTarget(db, userId, k.channel, req.params.target))) {
        throw apiError(404, 'target_not_found', `user ${userId} has no ${k.path} entry ${targetHint(req.params.target)}`);
      }
      res.status(204).end();
    }));
  }

  /** Every target of the user, disabled ones included with the reason: the first stop for "why no push?". */
  router.get('/:userId/targets', documented(CONTRACTS.list, async (req, res) => {
    const userId = parse(userIdParam, req.params.userId, 'user id');
    res.json({ items: (await userTargets(db, userId)).map((r) => targetView(r)) });
  }));

  return router;
}
