import { sql } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../../src/db';
import { acceptNotification } from '../../src/db/notifications';
import { query } from '../../src/db/raw';
import { createLogger } from '../../src/logger';
import type { NotificationInput } from '../../workflows/definitions';
import { createScratchDatabase } from '../setup/stack';

/*
 * On a Postgres server every statement with parameters is prepared on its connection, so after its
 * first use it costs one round trip; `?prepare=false` in the URL (for a pooler that cannot keep
 * prepared statements) sends them unprepared, and everything still works.
 */
const input = (key: string): NotificationInput => ({
  notificationId: `ntf_${key}`,
  idempotencyKey: key,
  requestFingerprint: 'f',
  userId: 'prepared-user',
  type: 'default',
  category: 'general',
  channels: ['webhook'],
  routing: 'all',
  content: { body: 'hello' },
  scheduledAt: new Date(Date.now() + 60_000).toISOString(),
});

async function preparedOnTheConnection(url: string, keyPrefix: string): Promise<{ accepted: boolean[]; prepared: number }> {
  let handle: DatabaseHandle | undefined;
  try {
    // One connection, so the session that ran the inserts is the one asked.
    handle = await openDatabase({ url, pgliteDir: 'memory://', poolSize: 1 }, createLogger('silent', 'test'));
    const accepted = [];
    for (const key of ['one', 'two', 'two']) accepted.push(Boolean(await acceptNotification(handle.db, input(`${keyPrefix}-${key}`))));
    // The driver prepares a statement of its own (it reads the server's types); this counts Herald's insert.
    const [{ count }] = await query<{ count: number }>(
      handle.db,
      sql`select count(*)::int as count from pg_prepared_statements where statement like '%insert into notifications%'`,
    );
    return { accepted, prepared: count };
  } finally {
    await handle?.close();
  }
}

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
beforeAll(async () => {
  scratch = await createScratchDatabase();
});
afterAll(async () => {
  await scratch?.drop();
});

test('statements are prepared on their connection, and a repeated key is still refused', async () => {
  const { accepted, prepared } = await preparedOnTheConnection(scratch.url, 'prepared');
  expect(accepted).toEqual([true, true, false]);
  expect(prepared).toBe(1);
});

test('?prepare=false sends them unprepared, with the same answers', async () => {
  const url = new URL(scratch.url);
  url.searchParams.set('prepare', 'false');
  const { accepted, prepared } = await preparedOnTheConnection(url.toString(), 'unprepared');
  expect(accepted).toEqual([true, true, false]);
  expect(prepared).toBe(0);
});
