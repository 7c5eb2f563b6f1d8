import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import iconv from 'iconv-lite';

/*
 * SOLAPI's POST /messages/v4/send on loopback, enforcing what its public documentation says: the
 * HMAC-SHA256 Authorization header (date + salt signed with the API secret, ±15 minutes, no reused
 * signature), digits-only numbers, a registered sender, the SMS/LMS byte limits in EUC-KR, and
 * Alimtalk's profile id and approved templates. What it refuses it answers as SOLAPI does: HTTP 403
 * with an errorCode for authentication, HTTP 200 with a message status code for the message itself.
 */
export interface SolapiCall {
  authorization?: string;
  body: any;
  verdict: string;
}

export interface FakeSolapi {
  url: string;
  calls: SolapiCall[];
  /** Make every message to this national number (of this type, or any) end with this status code (e.g. 3104: not a KakaoTalk user). */
  answerFor(to: string, statusCode: string, type?: 'SMS' | 'LMS' | 'ATA'): void;
  close(): Promise<void>;
}

export interface FakeSolapiAccount {
  apiKey: string;
  apiSecret: string;
  sender: string;
  pfId: string;
  /** Approved Alimtalk templates: id → text with #{variables} or literal. */
  templates: Record<string, string>;
}

const AUTH = /^HMAC-SHA256 apiKey=([^,]+), date=([^,]+), salt=([^,]+), signature=([0-9a-f]{64})$/;
const eucKrBytes = (text: string) => iconv.encode(text, 'euc-kr').length;

export async function startFakeSolapi(account: FakeSolapiAccount): Promise<FakeSolapi> {
  const calls: SolapiCall[] = [];
  const seenSignatures = new Set<string>();
  const scripted = new Map<string, string>();
  let sequence = 0;

  function authError(header: string | undefined): string | undefined {
    const match = AUTH.exec(header ?? '');
    if (!match) return 'InvalidAPIKey';
    const [, apiKey, date, salt, signature] = match;
    if (apiKey !== account.apiKey) return 'InvalidAPIKey';
    if (salt.length < 12 || salt.length > 64) return 'SignatureDoesNotMatch';
    const expected = createHmac('sha256', account.apiSecret).update(date + salt).digest();
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return 'SignatureDoesNotMatch';
    const at = Date.parse(date);
    if (!Number.isFinite(at) || Math.abs(Date.now() - at) > 15 * 60_000) return 'RequestTimeTooSkewed';
    if (seenSignatures.has(signature)) return 'DuplicatedSignature';
    seenSignatures.add(signature);
    return undefined;
  }

  /** The message status code SOLAPI would give this message at intake. */
  function verdictOf(message: any): string {
    if (!message || typeof message.to !== 'string' || typeof message.from !== 'string' || typeof message.text !== 'string') return '1010';
    if (!/^\d{8,15}$/.test(message.to) || !/^\d+$/.test(message.from)) return '1011';
    if (message.from !== account.sender) return '1062';
    if (!['SMS', 'LMS', 'ATA'].includes(message.type)) return '1025';
    if (message.kakaoOptions && message.type !== 'ATA') return '1033';
    if (message.type === 'SMS' && message.subject !== undefined) return '1013';
    if (message.subject !== undefined && eucKrBytes(message.subject) > 40) return '1014';
    if (message.type !== 'ATA' && iconv.decode(iconv.encode(message.text, 'euc-kr'), 'euc-kr') !== message.text) return '1029';
    if (message.type === 'SMS' && eucKrBytes(message.text) > 90) return '1031';
    if (message.type === 'LMS' && eucKrBytes(message.text) > 2000) return '1031';
    if (message.type === 'ATA') {
      const { pfId, templateId } = message.kakaoOptions ?? {};
      if (pfId !== account.pfId) return '1041';
      if (!templateId || !(templateId in account.templates)) return '1042';
      if ([...message.text].length > 1000) return '1031';
    }
    return scripted.get(`${message.to}:${message.type}`) ?? scripted.get(`${message.to}:*`) ?? '2000';
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        body = undefined;
      }
      if (req.method !== 'POST' || req.url !== '/messages/v4/send') return answer(404, { errorCode: 'ResourceNotFound', errorMessage: `${req.method} ${req.url}` });
      const refused = authError(req.headers.authorization);
      if (refused) {
        calls.push({ authorization: req.headers.authorization, body, verdict: refused });
        return answer(403, { errorCode: refused, errorMessage: 'authentication failed' });
      }
      if (req.headers['content-type'] !== 'application/json' || !body?.message) {
        calls.push({ authorization: req.headers.authorization, body, verdict: 'ValidationError' });
        return answer(400, { errorCode: 'ValidationError', errorMessage: 'message is required' });
      }
      const verdict = verdictOf(body.message);
      calls.push({ authorization: req.headers.authorization, body, verdict });
      const { to, from, type } = body.message;
      answer(200, {
        groupId: `G4V${++sequence}`,
        messageId: `M4V${String(sequence).padStart(29, '0')}`,
        accountId: 'herald-test',
        statusCode: verdict,
        statusMessage: verdict === '2000' ? '정상 접수(이통사로 접수 예정) ' : `refused (${verdict})`,
        to,
        from,
        type,
        country: body.message.country ?? '82',
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    answerFor: (to, statusCode, type) => scripted.set(`${to}:${type ?? '*'}`, statusCode),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
