import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  test('an empty environment gives the embedded defaults', () => {
    const config = loadConfig({});
    expect(config.api.port).toBe(3000);
    expect(config.database.url).toBeUndefined();
    expect(config.database.pgliteDir).toMatch(/\.data\/pglite$/);
    expect(config.temporal.address).toBeUndefined();
    expect(config.temporal.devServer.uiPort).toBe(8233);
    expect(config.channels.retry.webhook).toEqual({
      initialIntervalMs: 2000,
      maximumIntervalMs: 300_000,
      maximumAttempts: 10,
      attemptTimeoutMs: 15_000,
      totalTimeoutMs: 7_200_000,
    });
  });

  test('values are parsed into their types, and empty variables count as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u:p@db:5432/herald',
      TEMPORAL_ADDRESS: '',
      API_KEYS: ' a , b ,',
      RETRY_FCM_MAX_INTERVAL: '90s',
      WEBHOOK_TIMEOUT: '2500ms',
    });
    expect(config.api.port).toBe(8080);
    expect(config.api.apiKeys).toEqual(['a', 'b']);
    expect(config.database.url).toBe('postgres://u:p@db:5432/herald');
    expect(config.temporal.address).toBeUndefined();
    expect(config.channels.retry.fcm.maximumIntervalMs).toBe(90_000);
    expect(config.channels.webhook.timeoutMs).toBe(2500);
  });

  test('every invalid variable is named in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', RETRY_WEBHOOK_INITIAL_INTERVAL: 'soon', DATABASE_URL: 'not a url' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(message).toMatch(/LOG_LEVEL: .*\(got "loud"\)/);
    expect(message).toMatch(/RETRY_WEBHOOK_INITIAL_INTERVAL: expected a duration .*\(got "soon"\)/);
    expect(message).toMatch(/DATABASE_URL: expected a postgres:\/\/ URL/);
    expect((error as ConfigError).problems).toHaveLength(4);
  });
});
