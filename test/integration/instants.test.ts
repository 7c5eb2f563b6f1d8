import { isoFromPostgres } from '../../drizzle/schema';
import { client } from '../setup/scenario';
import { DATABASES, startTestStack, type TestStack } from '../setup/stack';

/*
 * Every instant the API accepts (years 1–9999) reads back as it was written, on both databases.
 * Postgres prints `0017-11-29 19:54:32.7+00`, which JavaScript's Date misreads before the year 100;
 * a repeated create of such a notification used to answer 500, and `0099` came back as 1999.
 */
test.each([
  ['2027-01-31 21:30:00.5+09', '2027-01-31T21:30:00.5+09:00'],
  ['0017-11-29 19:54:32.7+00', '0017-11-29T19:54:32.7+00:00'],
  ['1969-07-20 20:17:40+05:30', '1969-07-20T20:17:40+05:30'],
  ['2027-01-31T21:30:00Z', '2027-01-31T21:30:00Z'],
])('%s reads as %s', (text, iso) => {
  expect(isoFromPostgres(text)).toBe(iso);
});

describe.each(DATABASES)('on %s', (database) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ database });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test.each(['0017-11-29T19:54:32.700Z', '0099-06-01T00:00:00.000Z', '0999-12-31T23:59:59.000Z'])('due %s: created, read back and repeated as written', async (scheduledAt) => {
    const api = client(stack);
    const key = `instant-${database}-${scheduledAt}`;
    const body = { userId: 'ancient', channels: ['webhook'], content: { body: 'long ago' }, scheduledAt, expiresAt: '9999-12-31T00:00:00.000Z' };
    const created = await api.create(body, key);
    expect(created.status).toBe(202);
    expect((await api.get(created.body.id)).body).toMatchObject({ scheduledAt, expiresAt: '9999-12-31T00:00:00.000Z' });
    const repeated = await api.create(body, key);
    expect(repeated.status).toBe(200);
    expect(repeated.body.id).toBe(created.body.id);
  });
});
