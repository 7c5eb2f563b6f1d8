import { createHmac, randomBytes } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Channel } from '../../workflows/definitions';
import { SMS_LIMIT, smsBytes, smsCanCarry } from './limits';
import { ChannelError, parseRetryAfter, targetHint, type ChannelAdapter, type RenderedMessage, type SendRequest } from './types';

/**
 * SMS and KakaoTalk Alimtalk through SOLAPI (https://api.solapi.com), one provider for both: it
 * documents its API publicly, signs requests with a plain HMAC that needs no SDK, and answers each
 * message with a status code that tells a bad number from our own setup. Another provider would be
 * a second module with the same two adapters.
 */
export interface SolapiOptions {
  apiKey: string;
  apiSecret: string;
  baseUrl: string;
  timeoutMs: number;
  /** The sender number registered with SOLAPI, digits only. */
  sender: string;
  /** Over 90 bytes: LMS, or refused. */
  longMessages: 'lms' | 'refuse';
  /** The KakaoTalk channel's profile id; unset: no KakaoTalk. */
  kakaoPfId?: string;
}

/** `Authorization: HMAC-SHA256 apiKey=…, date=…, salt=…, signature=…`, the signature over date + salt. */
function solapiAuthorization(apiKey: string, apiSecret: string, date = new Date().toISOString(), salt = randomBytes(16).toString('hex')): string {
  const signature = createHmac('sha256', apiSecret).update(date + salt).digest('hex');
  return `HMAC-SHA256 apiKey=${apiKey}, date=${date}, salt=${salt}, signature=${signature}`;
}

/** SOLAPI takes the national number as digits (010…) and the calling code apart. */
function recipient(e164: string): { to: string; country: string } {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed?.isValid()) {
    throw new ChannelError('permanent', 'phone_number_invalid', `${targetHint(e164)} is not a valid phone number`, { disableTarget: true });
  }
  return { to: parsed.formatNational().replace(/\D/g, ''), country: parsed.countryCallingCode };
}

/** At most 40 EUC-KR bytes, cut on a character. */
function lmsSubject(title: string): string {
  let subject = '';
  for (const ch of title) {
    if (smsBytes(subject + ch) > 40) break;
    subject += ch;
  }
  return subject;
}

interface SolapiMessage {
  type: 'SMS' | 'LMS' | 'ATA';
  text: string;
  subject?: string;
  kakaoOptions?: { pfId: string; templateId: string; disableSms: boolean };
}

function smsMessage(message: RenderedMessage, longMessages: SolapiOptions['longMessages']): SolapiMessage {
  const bytes = smsBytes(message.body);
  if (!smsCanCarry(message.body)) {
    throw new ChannelError('permanent', 'sms_unsupported_characters', 'the text has characters SMS cannot carry (outside EUC-KR)');
  }
  if (bytes <= SMS_LIMIT) return { type: 'SMS', text: message.body };
  if (longMessages === 'refuse') throw new ChannelError('permanent', 'sms_too_long', `the text is ${bytes} bytes; SMS carries ${SMS_LIMIT} and long messages are refused`);
  return { type: 'LMS', text: message.body, ...(message.title ? { subject: lmsSubject(message.title) } : {}) };
}

function kakaoMessage(message: RenderedMessage, pfId: string): SolapiMessage {
  if (!message.providerTemplateId) {
    throw new ChannelError('permanent', 'kakao_template_missing', 'the template has no providerTemplateId: Alimtalk sends approved templates only');
  }
  // Herald's own fallback routing (kakao, then sms) decides about SMS, and records both attempts: the
  // provider's silent substitute is turned off.
  return { type: 'ATA', text: message.body, kakaoOptions: { pfId, templateId: message.providerTemplateId, disableSms: true } };
}

export function createSolapiAdapters(options: SolapiOptions): Partial<Record<Channel, ChannelAdapter>> {
  const send = (channel: 'sms' | 'kakao', build: (message: RenderedMessage) => SolapiMessage): ChannelAdapter => ({
    channel,
    async send(request: SendRequest) {
      const body = { message: { ...recipient(request.target.address), from: options.sender, ...build(request.message) } };
      return post(options, channel, body, request);
    },
  });
  const { kakaoPfId } = options;
  return {
    sms: send('sms', (message) => smsMessage(message, options.longMessages)),
    ...(kakaoPfId ? { kakao: send('kakao', (message) => kakaoMessage(message, kakaoPfId)) } : {}),
  };
}

interface SolapiAnswer {
  messageId?: string;
  statusCode?: string;
  statusMessage?: string;
  errorCode?: string;
  errorMessage?: string;
}

async function post({ apiKey, apiSecret, baseUrl, timeoutMs }: SolapiOptions, channel: 'sms' | 'kakao', body: unknown, request: SendRequest) {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  let response: Response;
  let answer: SolapiAnswer;
  try {
    response = await fetch(`${baseUrl}/messages/v4/send`, {
      method: 'POST',
      headers: { authorization: solapiAuthorization(apiKey, apiSecret), 'content-type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'error',
      signal,
    });
    answer = ((await response.json().catch(() => ({}))) ?? {}) as SolapiAnswer;
  } catch (err) {
    if (timeout.aborted) throw new ChannelError('retryable', `${channel}_timeout`, `no answer from SOLAPI within ${timeoutMs} ms`);
    if (signal.aborted) throw new ChannelError('retryable', `${channel}_cancelled`, 'send cancelled');
    throw new ChannelError('retryable', `${channel}_unreachable`, `SOLAPI unreachable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!response.ok) throw fromHttpError(channel, response, answer);
  // A 200 carries the message's own verdict: 2000 is accepted, anything else is a refusal of this message.
  if (answer.statusCode === '2000') return { httpStatus: response.status, providerMessageId: answer.messageId };
  throw fromStatusCode(channel, answer.statusCode ?? 'missing', answer.statusMessage ?? '', response.status);
}

/** The account-level errors: our credentials, clock or balance, or the provider itself. */
function fromHttpError(channel: string, response: Response, { errorCode = 'unknown', errorMessage = '' }: SolapiAnswer): ChannelError {
  const status = response.status;
  const reason = `SOLAPI answered HTTP ${status} ${errorCode}${errorMessage ? `: ${errorMessage.slice(0, 200)}` : ''}`;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  // A reused salt is a fluke of ours; the next attempt signs afresh.
  if (errorCode === 'DuplicatedSignature') return new ChannelError('retryable', `${channel}_signature_reused`, reason, { httpStatus: status });
  if (['InvalidAPIKey', 'SignatureDoesNotMatch', 'RequestTimeTooSkewed', 'NotEnoughBalance', 'Forbidden'].includes(errorCode) || status === 401 || status === 402 || status === 403) {
    return new ChannelError('configuration', `${channel}_provider_account`, reason, { httpStatus: status });
  }
  if (status === 429) return new ChannelError('retryable', `${channel}_rate_limited`, reason, { httpStatus: status, retryAfterMs });
  if (status >= 500 || status === 408) return new ChannelError('retryable', `${channel}_unavailable`, reason, { httpStatus: status, retryAfterMs });
  return new ChannelError('permanent', `${channel}_rejected`, reason, { httpStatus: status });
}

type Verdict = { kind: 'permanent' | 'retryable' | 'configuration'; disableTarget?: boolean };

/** SOLAPI's message status codes (its "message status codes" reference) that need more than their class. */
const STATUS_CODES: Record<string, Verdict> = {
  // The recipient cannot receive this channel: the target is gone.
  '1060': { kind: 'permanent', disableTarget: true }, // recipient blocked
  '3010': { kind: 'permanent', disableTarget: true }, // number format
  '3032': { kind: 'permanent', disableTarget: true }, // not a subscriber
  '3104': { kind: 'permanent', disableTarget: true }, // not a KakaoTalk user
  // Our own setup: the sender, the Kakao profile or template, the balance.
  '1030': { kind: 'configuration' },
  '1041': { kind: 'configuration' },
  '1042': { kind: 'configuration' },
  '1062': { kind: 'configuration' },
  '2062': { kind: 'configuration' },
  '2230': { kind: 'configuration' },
  '3059': { kind: 'configuration' },
  '3101': { kind: 'configuration' },
  '3105': { kind: 'configuration' },
  // Transient at the carrier or Kakao.
  '3040': { kind: 'retryable' },
  '3108': { kind: 'retryable' },
};

function fromStatusCode(channel: string, code: string, message: string, httpStatus: number): ChannelError {
  // By class otherwise: 1xxx the message was refused at intake, 2xxx the platform failed, 3xxx the carrier refused it.
  const verdict = STATUS_CODES[code] ?? { kind: code.startsWith('2') ? 'retryable' : 'permanent' };
  const reason = `SOLAPI status ${code}${message ? `: ${message.trim().slice(0, 200)}` : ''}`;
  return new ChannelError(verdict.kind, `${channel}_status_${code}`, reason, { httpStatus, disableTarget: verdict.disableTarget });
}
