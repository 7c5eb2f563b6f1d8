import type { Channel, NotificationInput } from '../../workflows/definitions';
import type { Fault } from '../config';
import { apiError } from '../api/errors';
import type { Database, Executor } from '../db';
import { findPreferences, recipientLoad } from '../db/recipients';
import { admissionWait, throttleEnabled, type ThrottleRule } from '../policy/throttle';
import { acceptNotification, findByIdempotencyKey, untouchedSinceAcceptance, withdrawNotification, type NotificationRow } from '../db/notifications';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { DeliveryReporter } from '../reports';
import { notificationIdFor } from '../ids';
import type { TemporalGateway } from '../temporal/gateway';
import { PREFERRED, requestFingerprint, type CreateNotificationRequest } from './request';
import { TemplateNotFoundError, type Renderer } from './templates';
import { oversize, smsCanCarry } from '../channels/limits';
import type { RenderedMessage } from '../channels/types';
import { detailOf, type NotificationDetail } from './view';

export interface CreateDeps {
  db: Database;
  metrics: Pick<Metrics, 'notificationCreated'>;
  reporter: DeliveryReporter;
  temporal: TemporalGateway;
  log: Logger;
  /** Channels this deployment can send on. */
  channels: Channel[];
  renderer: Renderer;
  faults?: Fault[];
  /** The recipient throttle, for types that refuse a recipient over it at create time. */
  throttle?: ThrottleRule;
  /** SMS_LONG_MESSAGES: whether an SMS over 90 bytes goes as LMS or is refused. */
  smsLongMessages?: 'lms' | 'refuse';
}

/** The over-limit check of a type that refuses (the type's setting decides whether it runs). */
function overLimitCheck({ throttle }: CreateDeps, input: NotificationInput) {
  if (!throttle || !throttleEnabled(throttle)) return undefined;
  return async (tx: Executor) => {
    const now = new Date();
    const { buckets, pending } = await recipientLoad(tx, input.userId, input.channels, now);
    return admissionWait(buckets, pending, now, throttle);
  };
}

/** Where `channels: "preferred"` sends when the recipient has not said: push first, then the rest. */
export const DEFAULT_CHANNEL_PREFERENCE: Channel[] = ['fcm', 'webpush', 'telegram', 'kakao', 'sms', 'email', 'webhook'];

/**
 * The recipient's preferred channels for this category, in their order: those this deployment can
 * send on, less those the recipient turned off for the category. Resolved once, at create time.
 */
async function preferredChannels({ db, channels: configured }: CreateDeps, request: CreateNotificationRequest): Promise<Channel[]> {
  const prefs = await findPreferences(db, request.userId);
  const chosen = prefs?.preferredChannels.length ? prefs.preferredChannels : DEFAULT_CHANNEL_PREFERENCE;
  const off = prefs?.disabledChannels[request.category] ?? [];
  const usable = chosen.filter((c) => configured.includes(c) && !off.includes(c));
  if (usable.length === 0) {
    throw apiError(422, 'no_preferred_channel', `none of ${request.userId}'s preferred channels can carry category ${request.category} on this deployment`, {
      preferred: chosen,
      disabledForCategory: off,
      configured,
    });
  }
  return usable;
}

/** Refuses, before anything is stored, a notification that could never be sent as asked. */
async function checkSendable({ channels, renderer, smsLongMessages = 'lms' }: CreateDeps, input: NotificationInput): Promise<void> {
  const missing = input.channels.filter((c) => !channels.includes(c));
  if (missing.length > 0) {
    throw apiError(422, 'channel_not_configured', `channel ${missing.join(', ')} is not configured on this deployment`, {
      channels: missing,
      configured: channels,
    });
  }
  for (const channel of input.channels) {
    let message: RenderedMessage;
    try {
      message = await renderer.render(input.content, channel, input.userId);
    } catch (err) {
      if (err instanceof TemplateNotFoundError) {
        throw apiError(422, 'template_not_found', err.message, { key: err.key, channel, localesTried: err.locales });
      }
      throw err;
    }
    // Measured as the channel will send it, so a message accepted here is never refused for size later.
    const tooLarge = oversize(channel, input.notificationId, message, { smsLongMessages });
    if (tooLarge) {
      throw apiError(
        422,
        'message_too_large',
        `the message is ${tooLarge.size} ${tooLarge.unit} on ${channel}, which carries at most ${tooLarge.limit}; shorten the title, body or data`,
        { ...tooLarge },
      );
    }
    if (channel === 'sms' && !smsCanCarry(message.body)) {
      throw apiError(422, 'sms_unsupported_characters', 'SMS carries only characters of EUC-KR (Korean, Latin, common symbols): remove emoji and the like', { channel });
    }
    // Alimtalk sends only texts the provider approved, each under its own template id.
    if (channel === 'kakao' && !message.providerTemplateId) {
      throw apiError(
        422,
        'kakao_template_required',
        'KakaoTalk Alimtalk sends only approved templates: use a template whose kakao (or default) text has a providerTemplateId',
        { channel, template: 'template' in input.content ? input.content.template.key : null },
      );
    }
  }
}

/**
 * Accepts a notification exactly once per idempotency key: records it in Postgres (the unique key
 * makes a concurrent duplicate wait for this commit, then answer as a replay), and only then starts
 * its workflow — no transaction is held open across the Temporal call. Should the start not happen
 * (the process dies, Temporal is unreachable), the client's retry with the same key starts it.
 */
export async function createNotification(
  deps: CreateDeps,
  request: CreateNotificationRequest,
  idempotencyKey: string,
  /** The API key (its id) asking: recorded as the actor of SCHEDULED(accepted). */
  actor?: string,
): Promise<{ id: string; replay: boolean; replaced: string[]; detail?: NotificationDetail }> {
  const { db, temporal, log } = deps;
  const fingerprint = requestFingerprint(request);
  const id = notificationIdFor(idempotencyKey);
  const input: NotificationInput = {
    notificationId: id,
    idempotencyKey,
    requestFingerprint: fingerprint,
    userId: request.userId,
    type: request.type,
    category: request.category,
    // Filled in below from the recipient's preferences when the request says "preferred".
    channels: request.channels === PREFERRED ? [] : request.channels,
    routing: request.routing,
    content: request.template ? { template: request.template } : request.content!,
    scheduledAt: request.scheduledAt ?? new Date().toISOString(),
    expiresAt: request.expiresAt,
    collapseKey: request.collapseKey,
    metadata: request.metadata,
  };

  // New keys are the common case, so the insert itself detects a repeat. A replay answers with what
  // was accepted, whatever changed since: a check that fails now (a template deleted, a channel no
  // longer configured) does not turn a repeat into an error.
  const replay = async () => {
    const known = await findByIdempotencyKey(db, idempotencyKey);
    return known && replayOf(deps, known, fingerprint);
  };
  try {
    if (request.channels === PREFERRED) input.channels = await preferredChannels(deps, request);
    await checkSendable(deps, input);
  } catch (err) {
    const answer = await replay();
    if (answer) return answer;
    throw err;
  }
  const accepted = await acceptNotification(db, input, { actor, overLimitWait: overLimitCheck(deps, input) });
  if (accepted && 'refusedForMs' in accepted) {
    // A repeat of a request accepted earlier is answered as one, however full the buckets are now.
    const answer = await replay();
    if (answer) return answer;
    const retryAfterSeconds = Math.ceil(accepted.refusedForMs / 1000);
    throw apiError(
      429,
      'recipient_over_limit',
      `${input.userId} is over the delivery limit and type ${input.type} refuses rather than defers; a token is free in ${retryAfterSeconds} s`,
      { userId: input.userId, type: input.type, retryAfterSeconds },
      { retryAfterSeconds },
    );
  }
  if (!accepted) {
    // The key exists: a repeat, or a concurrent request with the same key that committed first.
    const answer = await replay();
    if (!answer) throw new Error(`idempotency key conflict without a row for ${id}`);
    return answer;
  }
  // The chaos suite's crash between the commit and the start: the client's retry must heal it.
  if (deps.faults?.includes('crash_before_workflow_start')) process.kill(process.pid, 'SIGKILL');
  if (!(await temporal.startNotification(input))) {
    // Postgres lost the key but Temporal still remembers a closed run under this id.
    await withdrawNotification(db, id);
    throw apiError(409, 'idempotency_key_reused', 'a notification with this idempotency key has already run');
  }
  deps.reporter.transitionRecorded({ notificationId: id, to: 'SCHEDULED', reason: 'accepted', at: accepted.accepted.at.toISOString() });
  deps.metrics.notificationCreated(input.type, input.channels);
  // The older workflows end CANCELLED(replaced) now rather than at their due time.
  await Promise.all(
    accepted.replaced.map((older) =>
      temporal.supersede(inputOf(older), id).catch((err) => log.warn({ err, notificationId: older.id }, 'supersede signal failed; the due-time check will catch it')),
    ),
  );
  const replaced = accepted.replaced.map((older) => older.id);
  // What was accepted, without reading it back.
  return { id, replay: false, replaced, detail: detailOf(accepted.row, { transitions: [accepted.accepted], attempts: [] }) };
}

/** The answer to a repeated key: the same notification, or 409 when the body differs. */
async function replayOf({ temporal }: CreateDeps, existing: NotificationRow, fingerprint: string) {
  if (existing.requestFingerprint !== fingerprint) {
    throw apiError(
      409,
      'idempotency_key_reused',
      'this Idempotency-Key was already used with a different request body; use a new key for a new notification',
      { notificationId: existing.id },
    );
  }
  // Its workflow may never have started (the first request died in between). Starting again is
  // harmless — an existing run is kept — and heals that case.
  if (untouchedSinceAcceptance(existing)) await temporal.startNotification(inputOf(existing));
  return { id: existing.id, replay: true, replaced: [] as string[] };
}

/** The workflow input of an accepted notification, rebuilt from its row. */
export function inputOf(row: NotificationRow): NotificationInput {
  return {
    notificationId: row.id,
    idempotencyKey: row.idempotencyKey,
    requestFingerprint: row.requestFingerprint,
    userId: row.userId,
    type: row.type,
    category: row.category,
    channels: row.channels,
    routing: row.routing,
    content: row.content,
    scheduledAt: row.scheduledAt.toISOString(),
    ...(row.expiresAt ? { expiresAt: row.expiresAt.toISOString() } : {}),
    ...(row.collapseKey ? { collapseKey: row.collapseKey } : {}),
    ...(row.metadata ? { metadata: row.metadata } : {}),
  };
}
