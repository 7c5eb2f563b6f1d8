import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, parseEncryptionKeys } from '../../src/temporal/codec';

const key = (id: string) => ({ id, key: randomBytes(32) });
const payload = (value: unknown) => defaultPayloadConverter.toPayload(value)!;
const text = (bytes?: Uint8Array | null) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

describe('payload encryption', () => {
  test('round trip: the stored bytes hide the value, decoding gives back the very payload', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const original = payload({ body: 'the secret text', userId: 'u-42' });
    const [sealed] = await codec.encode([original]);
    expect(text(sealed.data)).not.toContain('secret');
    expect(text(sealed.metadata?.encoding)).toBe('binary/encrypted');
    expect(text(sealed.metadata?.['encryption-key-id'])).toBe('k1');
    const [opened] = await codec.decode([sealed]);
    expect(defaultPayloadConverter.fromPayload(opened)).toEqual({ body: 'the secret text', userId: 'u-42' });
  });

  test('rotation: a new first key encrypts, the old one still decrypts what it sealed', async () => {
    const [k1, k2] = [key('k1'), key('k2')];
    const [old] = await new EncryptionCodec([k1]).encode([payload('old')]);
    const rotated = new EncryptionCodec([k2, k1]);
    const [fresh] = await rotated.encode([payload('new')]);
    expect(text(fresh.metadata?.['encryption-key-id'])).toBe('k2');
    expect((await rotated.decode([old, fresh])).map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['old', 'new']);
  });

  test('a payload from an unknown key, or altered, is refused; a plain one passes through', async () => {
    const [sealed] = await new EncryptionCodec([key('gone')]).encode([payload('x')]);
    await expect(new EncryptionCodec([key('k1')]).decode([sealed])).rejects.toThrow('payload encrypted with key "gone", which is not among PAYLOAD_ENCRYPTION_KEYS');
    const codec = new EncryptionCodec([key('k1')]);
    const [mine] = await codec.encode([payload('x')]);
    const tampered = { ...mine, data: Buffer.from(mine.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(codec.decode([tampered])).rejects.toThrow();
    const plain = payload('plain');
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  test('keys are "id:base64 of 32 bytes"; a bad entry is named without echoing it', () => {
    const good = randomBytes(32).toString('base64');
    expect(parseEncryptionKeys([`k2:${good}`, `k1:${good}`]).map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(() => parseEncryptionKeys([`k1:${good}`, 'k2:c2hvcnQ='])).toThrow(/^entry 2 is not "id:key" with a 32-byte base64 key/);
    expect(() => parseEncryptionKeys([`k1:${good}`, `k1:${good}`])).toThrow('key id "k1" is used twice');
  });
});
