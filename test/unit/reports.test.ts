import type { Database } from '../../src/db';
import { createDeliveryReporter } from '../../src/reports';

/** A logger that records what was logged at each level. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (_fields: unknown, message: string) => lines.push({ level, message });
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as never };
}
// Reporting that is off never touches the database.
const noDatabase = new Proxy({}, { get: () => { throw new Error('the database was used'); } }) as Database;
const transition = { notificationId: 'ntf_x', to: 'DELIVERED' as const, at: new Date().toISOString() };

describe('delivery reports that are off or half configured', () => {
  test.each([
    [{}, 'REPORT_URL is not set'],
    [{ url: 'http://127.0.0.1:9/platform' }, 'REPORT_URL and REPORT_API_KEY must both be set'],
    [{ apiKey: 'k' }, 'REPORT_URL and REPORT_API_KEY must both be set'],
  ])('%j: skipped with a debug log that says why', async (settings, why) => {
    const { lines, log } = recordingLogger();
    const reporter = createDeliveryReporter(settings, noDatabase, log);
    reporter.transitionRecorded(transition);
    await reporter.settled();
    expect(lines).toEqual([{ level: 'debug', message: `delivery report skipped: ${why}` }]);
  });

  test('statuses the platform does not hear about are not even logged', () => {
    const { lines, log } = recordingLogger();
    createDeliveryReporter({}, noDatabase, log).transitionRecorded({ ...transition, to: 'SENDING' });
    expect(lines).toEqual([]);
  });
});
