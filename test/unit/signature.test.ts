import { createHmac } from 'node:crypto';
import { generateWebhookSecret, isWebhookSecret, signWebhook, verifyWebhook } from '../../src/channels/signature';

describe('Standard Webhooks signature', () => {
  // Test vector from the Standard Webhooks specification's reference implementations.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  test('matches the specification test vector', () => {
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('is an HMAC-SHA256 over id.timestamp.body keyed with the decoded secret', () => {
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    expect(signWebhook(secret, id, timestamp, body)).toBe(`v1,${expected}`);
  });

  test('verification accepts the right signature and rejects tampering, other secrets and stale timestamps', () => {
    const signature = signWebhook(secret, id, timestamp, body);
    const headers = { id, timestamp: String(timestamp), signature };
    const now = { nowSeconds: timestamp + 10 };
    expect(verifyWebhook(secret, headers, body, now)).toBe(true);
    expect(verifyWebhook(secret, { ...headers, signature: `v1,bogus ${signature}` }, body, now)).toBe(true);
    expect(verifyWebhook(secret, headers, body.replace('2432', '9999'), now)).toBe(false);
    expect(verifyWebhook(secret, { ...headers, id: 'msg_other' }, body, now)).toBe(false);
    expect(verifyWebhook(generateWebhookSecret(), headers, body, now)).toBe(false);
    expect(verifyWebhook(secret, headers, body, { nowSeconds: timestamp + 3600 })).toBe(false);
  });

  test('generated secrets have the whsec_ form and enough entropy', () => {
    const a = generateWebhookSecret();
    expect(isWebhookSecret(a)).toBe(true);
    expect(a).not.toBe(generateWebhookSecret());
    expect(isWebhookSecret('whsec_c2hvcnQ=')).toBe(false);
    // Characters outside base64 are refused, not skipped the way Buffer.from(…, 'base64') skips them.
    expect(isWebhookSecret(`${a}*`)).toBe(false);
    expect(isWebhookSecret(`whsec_${'A'.repeat(10)}!${'A'.repeat(12)}`)).toBe(false);
    expect(isWebhookSecret('plain-secret')).toBe(false);
  });
});
