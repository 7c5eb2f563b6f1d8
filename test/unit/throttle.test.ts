import { admissionWait } from '../../src/policy/throttle';

const rule = { burst: 3, perHour: 60 }; // a token a minute
const now = new Date('2026-12-01T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

describe('admission of a type that refuses recipients over the limit', () => {
  test('a recipient never seen has a full bucket', () => {
    expect(admissionWait([undefined], 0, now, rule)).toBeUndefined();
    expect(admissionWait([undefined], 2, now, rule)).toBeUndefined();
  });

  test('what is already pending within the hour takes the tokens first', () => {
    // Three tokens, three pending: the fourth waits for a fourth token, a minute away.
    expect(admissionWait([undefined], 3, now, rule)).toBe(60_000);
  });

  test('an empty bucket refills at perHour; every channel asked for must have room', () => {
    const empty = { tokens: 0, updatedAt: now };
    const halfRefilled = { tokens: 0, updatedAt: new Date(now.getTime() - 30_000) };
    expect(admissionWait([empty], 0, now, rule)).toBe(60_000);
    expect(admissionWait([halfRefilled], 0, now, rule)).toBe(30_000);
    expect(admissionWait([{ tokens: 3, updatedAt: minutesAgo(5) }, empty], 0, now, rule)).toBe(60_000);
  });
});
