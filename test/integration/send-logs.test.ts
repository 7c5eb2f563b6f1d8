import { MockActivityEnvironment } from '@temporalio/testing';
import type { LogLevel, LogMetadata } from '@temporalio/common';
import pino from 'pino';
import { createDeliveryActivities } from '../../activities/delivery';
import { activityDeps } from '../../src/worker';
import { sendInputFor } from '../../workflows/send-input';
import { inSeconds, webhookWorld } from '../setup/scenario';

/*
 * At 3 a.m. an operator reads the worker's log: one line per send outcome, saying which
 * notification, channel and target, which attempt of how many, and when the next one comes — and,
 * through the SDK's activity logger, the workflow and run it belongs to.
 */
describe('the log line of each send outcome', () => {
  const w = webhookWorld('logs', { env: { RETRY_WEBHOOK_INITIAL_INTERVAL: '2s', RETRY_WEBHOOK_MAX_ATTEMPTS: '5' } });
  const lines: Array<{ level: LogLevel; message: string; meta?: LogMetadata }> = [];
  const capture = {
    log: (level: LogLevel, message: string, meta?: LogMetadata) => lines.push({ level, message, meta }),
    trace: (message: string, meta?: LogMetadata) => capture.log('TRACE', message, meta),
    debug: (message: string, meta?: LogMetadata) => capture.log('DEBUG', message, meta),
    info: (message: string, meta?: LogMetadata) => capture.log('INFO', message, meta),
    warn: (message: string, meta?: LogMetadata) => capture.log('WARN', message, meta),
    error: (message: string, meta?: LogMetadata) => capture.log('ERROR', message, meta),
  };

  async function sendOnce(attempt: number) {
    const { api } = w;
    const userId = await w.recipient();
    // Due in an hour: its own run sleeps while this test sends it by hand.
    const created = await api.create({ userId, channels: ['webhook'], content: { body: 'logged' }, scheduledAt: inSeconds(3600) });
    const [target] = (await api.targets(userId)).body.items;
    const { config, database, reporter, metrics, temporal } = w.stack;
    const log = pino({ level: 'info' }, { write: () => undefined });
    const activities = createDeliveryActivities(activityDeps({ config, db: database.db, log, temporal, reporter, metrics }));
    const env = new MockActivityEnvironment({ attempt, workflowExecution: { workflowId: created.body.id, runId: 'run-1' } }, { logger: capture });
    const outcome = await env.run(activities.sendWebhook, sendInputFor({ ...created.body, notificationId: created.body.id }, target.id)).catch((err: Error) => err);
    await api.cancel(created.body.id);
    return { id: created.body.id, target, outcome };
  }

  beforeEach(() => lines.splice(0));

  test('a failed attempt: a warning with the attempt, the attempts allowed and the wait before the next', async () => {
    w.receiver.respondWith({ status: 503 });
    const { id, target } = await sendOnce(2);
    const line = lines.find((l) => l.message.startsWith('send failed'));
    expect(line).toMatchObject({
      level: 'WARN',
      message: 'send failed: receiver answered HTTP 503',
      meta: { notificationId: id, channel: 'webhook', target: target.target, attempt: 2, maxAttempts: 5, nextRetry: '4s', code: 'webhook_server_error', workflowId: id, workflowRunId: 'run-1' },
    });
  });

  test('the last attempt says no retry follows', async () => {
    w.receiver.respondWith({ status: 503 });
    await sendOnce(5);
    expect(lines.find((l) => l.message.startsWith('send failed'))?.meta).toMatchObject({ attempt: 5, maxAttempts: 5, nextRetry: 'none' });
  });

  test('a delivery: one info line', async () => {
    const { id } = await sendOnce(1);
    expect(lines.filter((l) => l.message === 'delivered')).toEqual([
      expect.objectContaining({ level: 'INFO', meta: expect.objectContaining({ notificationId: id, channel: 'webhook', attempt: 1, maxAttempts: 5, workflowId: id }) }),
    ]);
  });
});
