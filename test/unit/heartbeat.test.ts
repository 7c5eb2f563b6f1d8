import { MockActivityEnvironment } from '@temporalio/testing';
import { whileHeartbeating } from '../../activities/heartbeat';

/*
 * A send that takes long heartbeats, so the server notices a dead worker within the heartbeat
 * timeout instead of the whole start-to-close timeout; a send that takes the usual moment sends no
 * heartbeat at all (each one is a call to the server).
 */
async function heartbeatsDuring(ms: number): Promise<number> {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => beats++);
  await env.run(() => whileHeartbeating(() => new Promise((done) => setTimeout(done, ms))));
  return beats;
}

test('a send of a few milliseconds sends no heartbeat', async () => {
  expect(await heartbeatsDuring(20)).toBe(0);
});

test('a send that hangs heartbeats every 2 s, well within the 10 s timeout', async () => {
  expect(await heartbeatsDuring(5_000)).toBe(2);
}, 10_000);

test('a failing send stops heartbeating and keeps its error', async () => {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => beats++);
  await expect(env.run(() => whileHeartbeating(() => Promise.reject(new Error('provider said no'))))).rejects.toThrow('provider said no');
  await new Promise((r) => setTimeout(r, 2_500));
  expect(beats).toBe(0);
});
