import { createUnsubscribeLinks } from '../../src/unsubscribe';
import { subjectOf } from '../../src/channels/email';

const links = createUnsubscribeLinks({ signingKey: 'k'.repeat(32), baseUrl: 'https://herald.example', ttlMs: 60_000 });
const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

describe('unsubscribe links', () => {
  const now = new Date('2027-01-01T00:00:00Z');
  const link = links.linkFor({ userId: 'u-1', category: 'digest' }, now);

  test('point at the public URL and verify to who and what, until they expire', () => {
    expect(link.startsWith('https://herald.example/unsubscribe?token=')).toBe(true);
    expect(links.verify(tokenOf(link), new Date(now.getTime() + 59_000))).toEqual({ userId: 'u-1', category: 'digest' });
    expect(links.verify(tokenOf(link), new Date(now.getTime() + 61_000))).toBe('expired');
  });

  test('a token signed with another key, or with its payload changed, is not valid', () => {
    const other = createUnsubscribeLinks({ signingKey: 'o'.repeat(32), baseUrl: 'https://herald.example', ttlMs: 60_000 });
    expect(links.verify(tokenOf(other.linkFor({ userId: 'u-1', category: 'digest' }, now)), now)).toBeUndefined();
    const [, signature] = tokenOf(link).split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'u-2', c: 'digest', e: 9_999_999_999 })).toString('base64url');
    expect(links.verify(`${forged}.${signature}`, now)).toBeUndefined();
    expect(links.verify('', now)).toBeUndefined();
  });
});

describe('email subject', () => {
  test('is the title, or the body\'s first line cut to 78 characters', () => {
    expect(subjectOf({ title: 'Hello', body: 'b' })).toBe('Hello');
    expect(subjectOf({ body: 'first line\nsecond' })).toBe('first line');
    const long = subjectOf({ body: 'x'.repeat(100) });
    expect([long.length, long.endsWith('…')]).toEqual([78, true]);
  });
});
