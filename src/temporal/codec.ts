import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** One AES-256 key and the id written beside what it encrypted. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * Encrypts every payload Herald hands Temporal (workflow inputs, activity arguments and results,
 * summaries, query answers) with AES-256-GCM, so notification content, user ids and targets are not
 * stored in plain text in Temporal's history. The first key encrypts; every key decrypts, found by
 * the id in the payload's metadata: rotate by putting a new key first and keeping the old ones until
 * the last run that used them is gone.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: EncryptionKey[]) {
    if (keys.length === 0) throw new Error('EncryptionCodec needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0];
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: utf8(ENCODING), [KEY_ID]: utf8(id) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (new TextDecoder().decode(payload.metadata?.encoding ?? new Uint8Array()) !== ENCODING) return payload;
      const id = new TextDecoder().decode(payload.metadata?.[KEY_ID] ?? new Uint8Array());
      const key = this.byId.get(id);
      if (!key) throw new Error(`payload encrypted with key "${id}", which is not among PAYLOAD_ENCRYPTION_KEYS`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** `id:base64key,…` → keys; throws naming the entry that is not an id and 32 base64 bytes. */
export function parseEncryptionKeys(entries: string[]): EncryptionKey[] {
  const keys = entries.map((entry) => {
    const match = /^([A-Za-z0-9_.-]{1,64}):([A-Za-z0-9+/=_-]+)$/.exec(entry);
    const key = match ? Buffer.from(match[2], 'base64') : undefined;
    if (!match || key?.length !== 32) {
      throw new Error(`entry ${entries.indexOf(entry) + 1} is not "id:key" with a 32-byte base64 key (make one with: openssl rand -base64 32)`);
    }
    return { id: match[1], key };
  });
  const ids = keys.map((k) => k.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new Error(`key id "${repeated}" is used twice`);
  return keys;
}

/** The data converter for Herald's client and worker: encrypting when keys are configured. */
export const dataConverterFor = (keys?: EncryptionKey[]) => (keys ? { payloadCodecs: [new EncryptionCodec(keys)] } : undefined);
