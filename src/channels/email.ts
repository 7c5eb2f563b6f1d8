import { createTransport } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import type { UnsubscribeClaim } from '../unsubscribe';
import { ChannelError, targetHint, untilAborted, type ChannelAdapter, type RenderedMessage, type SendRequest } from './types';

/** What the adapter needs of a mail transport: nodemailer's sendMail (tests may wrap it). */
export interface MailTransport {
  sendMail(mail: Record<string, unknown>): Promise<{ messageId?: string; response?: string }>;
}

export interface EmailOptions {
  transport: MailTransport;
  /** The sender, e.g. `Herald <no-reply@example.com>`. */
  from: string;
  /** The one-click unsubscribe link for a recipient and category; undefined where none applies (a mandatory category). */
  unsubscribeLink(claim: UnsubscribeClaim): Promise<string | undefined>;
}

/** An SMTP transport that reuses connections; `smtps://` for implicit TLS, `smtp://` upgrades with STARTTLS when offered. */
export function smtpTransport({ smtpUrl, timeoutMs }: { smtpUrl: string; timeoutMs: number }): MailTransport {
  const url = new URL(smtpUrl);
  return createTransport({
    pool: true,
    maxConnections: 5,
    host: url.hostname,
    port: Number(url.port) || (url.protocol === 'smtps:' ? 465 : 587),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
}

/** Mail clients show at most about this much of a subject; a body's first line stands in for a missing title. */
const SUBJECT_FROM_BODY_LENGTH = 78;

export function subjectOf({ title, body }: RenderedMessage): string {
  if (title) return title;
  const firstLine = body.split('\n', 1)[0].trim();
  return firstLine.length <= SUBJECT_FROM_BODY_LENGTH ? firstLine : `${firstLine.slice(0, SUBJECT_FROM_BODY_LENGTH - 1)}…`;
}

export function createEmailAdapter({ transport, from, unsubscribeLink }: EmailOptions): ChannelAdapter {
  const [sender] = addressparser(from, { flatten: true });
  if (!sender?.address?.includes('@')) throw new Error('EMAIL_FROM is not an email address');
  const domain = sender.address.split('@').pop()!;
  return {
    channel: 'email',
    async send(request: SendRequest) {
      const { notificationId, userId, category, message, target } = request;
      const link = await unsubscribeLink({ userId, category });
      const mail = {
        from,
        to: target.address,
        subject: subjectOf(message),
        text: message.body,
        ...(message.html ? { html: message.html } : {}),
        // One id per notification: a resend after a crash carries the same Message-ID, which receivers and
        // mailbox providers recognise as the same message.
        messageId: `<${notificationId}@${domain}>`,
        headers: {
          'X-Herald-Notification-Id': notificationId,
          ...(link ? { 'List-Unsubscribe': `<${link}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
        },
      };
      try {
        const info = await untilAborted(transport.sendMail(mail), request.signal, () => new ChannelError('retryable', 'email_cancelled', 'send cancelled before the mail server answered'));
        return { providerMessageId: info.messageId };
      } catch (err) {
        throw toChannelError(err, target.address);
      }
    },
  };
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  command?: string;
  response?: string;
}

/**
 * SMTP's reply classes: 5xx is permanent, and for the recipient (RCPT TO) it means the address does
 * not take mail — disabled; 4xx is transient (greylisting, a full mailbox, a busy server) — retried;
 * authentication refused is our own setup. Connection troubles are retried.
 */
function toChannelError(err: unknown, address: string): ChannelError {
  if (err instanceof ChannelError) return err;
  const { code, responseCode, command, response } = (err ?? {}) as SmtpFailure;
  const said = (response ?? (err as Error)?.message ?? String(err)).split(address).join(targetHint(address)).slice(0, 200);
  const reason = `${command ? `${command}: ` : ''}${said}`;
  if (code === 'EAUTH' || code === 'ENOAUTH' || responseCode === 530 || responseCode === 535) {
    return new ChannelError('configuration', 'email_auth_failed', `the mail server refused our credentials: ${reason}`);
  }
  if (responseCode !== undefined && responseCode >= 500) {
    const refusedRecipient = command === 'RCPT TO' || code === 'EENVELOPE';
    return refusedRecipient
      ? new ChannelError('permanent', 'email_address_rejected', reason, { disableTarget: true })
      : new ChannelError('permanent', 'email_rejected', reason);
  }
  if (responseCode !== undefined && responseCode >= 400) return new ChannelError('retryable', 'email_deferred', reason);
  return new ChannelError('retryable', 'email_unreachable', `mail server unreachable: ${code ?? reason}`);
}
