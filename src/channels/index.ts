import type { Channel } from '../../workflows/definitions';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { createFcmAdapter, fcmMessagingFromCredentials } from './fcm';
import { createTelegramAdapter } from './telegram';
import type { ChannelAdapter } from './types';
import { loadOrCreateVapidKeys } from './vapid';
import { createWebhookAdapter } from './webhook';
import { createWebPushAdapter } from './webpush';
import type { Resolve } from '../net/outbound';
import type { Executor } from '../db';
import { mandatoryAmong } from '../db/recipients';
import { unsubscribeLinksFor } from '../unsubscribe';
import { createEmailAdapter, smtpTransport } from './email';
import { createSolapiAdapters } from './solapi';

export type Adapters = Partial<Record<Channel, ChannelAdapter>>;

/**
 * The VAPID key pair in use: from the environment, or (outside production) generated once under
 * DATA_DIR so the embedded default has Web Push out of the box. Production without keys: no Web Push,
 * since separate API and worker processes would each generate a different pair.
 */
export function vapidKeys(config: Config): { publicKey: string; privateKey: string } | undefined {
  if (config.channels.webpush.vapid) return config.channels.webpush.vapid;
  if (config.env === 'production') return undefined;
  return loadOrCreateVapidKeys(config.dataDir);
}

/** Channels this configuration can send on; asking for another one is refused at create time (422). */
export function configuredChannels(config: Config): Channel[] {
  return [
    'webhook',
    ...(config.channels.fcm ? (['fcm'] as const) : []),
    ...(vapidKeys(config) ? (['webpush'] as const) : []),
    ...(config.channels.telegram ? (['telegram'] as const) : []),
    ...(config.channels.email ? (['email'] as const) : []),
    ...(config.channels.solapi ? (['sms'] as const) : []),
    ...(config.channels.solapi?.kakaoPfId ? (['kakao'] as const) : []),
  ];
}

/** The adapters a worker runs with; a channel without credentials is simply absent. */
export function buildAdapters(config: Config, log: Logger, db: Executor, resolve?: Resolve): Adapters {
  const { outbound } = config;
  const adapters: Adapters = { webhook: createWebhookAdapter({ ...config.channels.webhook, outbound, resolve }) };
  const messaging = config.channels.fcm && fcmMessagingFromCredentials(config.channels.fcm);
  if (messaging) adapters.fcm = createFcmAdapter(messaging, { rateLimitDelayMs: config.channels.fcmRateLimitDelayMs });
  const vapid = vapidKeys(config);
  if (vapid) {
    const { subject, allowedHosts, ttlSeconds, timeoutMs } = config.channels.webpush;
    adapters.webpush = createWebPushAdapter({ vapid: { ...vapid, subject }, allowedHosts, ttlSeconds, timeoutMs, outbound, resolve });
  }
  if (config.channels.telegram) adapters.telegram = createTelegramAdapter(config.channels.telegram);
  if (config.channels.email) {
    const links = unsubscribeLinksFor(config);
    adapters.email = createEmailAdapter({
      transport: smtpTransport(config.channels.email),
      from: config.channels.email.from,
      // A mandatory category cannot be opted out of, so its mail offers no unsubscribe link.
      unsubscribeLink: async (claim) => ((await mandatoryAmong(db, [claim.category])).length > 0 ? undefined : links.linkFor(claim)),
    });
  }
  if (config.channels.solapi) Object.assign(adapters, createSolapiAdapters(config.channels.solapi));
  log.info({ channels: Object.keys(adapters) }, 'channels configured');
  return adapters;
}
