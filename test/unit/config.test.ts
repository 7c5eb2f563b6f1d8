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
      configurationRetryDelayMs: 600_000,
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

  test('worker settings: defaults, and a bad value named', () => {
    const worker = loadConfig({}).temporal.worker;
    expect(worker).toMatchObject({ maxCachedWorkflows: 1000, stickyQueueTimeoutMs: 300_000, workflowStackTraces: false, workflowWatchdog: false });
    expect(loadConfig({ WORKER_WORKFLOW_STACK_TRACES: 'true', WORKER_STICKY_QUEUE_TIMEOUT: '30s', WORKER_WORKFLOW_WATCHDOG: 'true' }).temporal.worker).toMatchObject({
      stickyQueueTimeoutMs: 30_000,
      workflowStackTraces: true,
      workflowWatchdog: true,
    });
    expect(() => loadConfig({ WORKER_WORKFLOW_STACK_TRACES: 'maybe' })).toThrow(/WORKER_WORKFLOW_STACK_TRACES: .*\(got "maybe"\)/);
    expect(() => loadConfig({ WORKER_WORKFLOW_WATCHDOG: 'sometimes' })).toThrow(/WORKER_WORKFLOW_WATCHDOG: .*\(got "sometimes"\)/);
    expect(() => loadConfig({ WORKER_STICKY_QUEUE_TIMEOUT: '0s' })).toThrow(/WORKER_STICKY_QUEUE_TIMEOUT: must be longer than zero/);
  });

  test('a notification due more than 5 minutes ahead waits on a start delay until 5 minutes before, unless START_DELAY_FROM says otherwise', () => {
    expect(loadConfig({}).temporal.startDelayFromMs).toBe(300_000);
    expect(loadConfig({ START_DELAY_FROM: '0s' }).temporal.startDelayFromMs).toBe(0);
    expect(() => loadConfig({ START_DELAY_FROM: 'soon' })).toThrow(/START_DELAY_FROM: /);
  });

  test('the workflow thread heap is unbounded unless set', () => {
    const heap = (env: Record<string, string>) => loadConfig(env).temporal.worker.workflowHeapMb;
    expect(heap({})).toBeUndefined();
    expect(heap({ WORKER_WORKFLOW_HEAP_MB: '512' })).toBe(512);
    expect(() => loadConfig({ WORKER_WORKFLOW_HEAP_MB: '8' })).toThrow(/WORKER_WORKFLOW_HEAP_MB: /);
  });

  test('delivery reports: off by default; a URL that is not http(s) stops start-up, naming it', () => {
    expect(loadConfig({}).reports).toEqual({ url: undefined, apiKey: undefined });
    expect(loadConfig({ REPORT_URL: 'https://platform.example/api', REPORT_API_KEY: 'k' }).reports).toEqual({ url: 'https://platform.example/api', apiKey: 'k' });
    expect(() => loadConfig({ REPORT_URL: 'ftp://platform.example' })).toThrow(/REPORT_URL: expected an http\(s\) URL/);
  });

  test('outbound policy: loopback and http only in development; production opens nothing; a bad network is named', () => {
    const networks = (env: Record<string, string>) => loadConfig(env).outbound.allowedNetworks.map(([ip, bits]) => `${ip.toString()}/${bits}`);
    expect(networks({})).toEqual(['127.0.0.0/8', '::1/128']);
    expect(loadConfig({}).outbound.allowHttp).toBe(true);
    expect(networks({ NODE_ENV: 'production' })).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'production' }).outbound.allowHttp).toBe(false);
    expect(networks({ NODE_ENV: 'production', OUTBOUND_ALLOWED_NETWORKS: '10.20.0.0/16' })).toEqual(['10.20.0.0/16']);
    expect(() => loadConfig({ OUTBOUND_ALLOWED_NETWORKS: '10.0.0.0/8,intranet' })).toThrow(/OUTBOUND_ALLOWED_NETWORKS: "intranet" is not a network in CIDR notation/);
  });

  describe('retry settings that could never work stop start-up, naming the variable', () => {
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      throw new Error('loadConfig accepted the settings');
    };

    test.each([
      ['RETRY_WEBHOOK_INITIAL_INTERVAL', '0s', /RETRY_WEBHOOK_INITIAL_INTERVAL: must be longer than zero/],
      ['RETRY_FCM_MAX_INTERVAL', '0', /RETRY_FCM_MAX_INTERVAL: must be longer than zero/],
      ['RETRY_TELEGRAM_ATTEMPT_TIMEOUT', '0ms', /RETRY_TELEGRAM_ATTEMPT_TIMEOUT: must be longer than zero/],
      ['RETRY_WEBPUSH_TOTAL_TIMEOUT', '0m', /RETRY_WEBPUSH_TOTAL_TIMEOUT: must be longer than zero/],
      ['RETRY_WEBHOOK_INITIAL_INTERVAL', '-5s', /RETRY_WEBHOOK_INITIAL_INTERVAL: expected a duration/],
    ])('%s=%s', (name, value, expected) => {
      const problems = problemsOf({ [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(expected);
    });

    test('a maximum interval below the initial one', () => {
      expect(problemsOf({ RETRY_FCM_INITIAL_INTERVAL: '5m', RETRY_FCM_MAX_INTERVAL: '1m' })).toEqual([
        'RETRY_FCM_MAX_INTERVAL: 1m is shorter than RETRY_FCM_INITIAL_INTERVAL (5m)',
      ]);
    });

    test('a total budget shorter than one attempt', () => {
      expect(problemsOf({ RETRY_WEBHOOK_ATTEMPT_TIMEOUT: '30s', RETRY_WEBHOOK_TOTAL_TIMEOUT: '10s' })).toEqual([
        'RETRY_WEBHOOK_TOTAL_TIMEOUT: 10s leaves no room for one attempt of RETRY_WEBHOOK_ATTEMPT_TIMEOUT (30s)',
      ]);
    });

    test('a configuration delay that leaves no second attempt within the budget', () => {
      expect(problemsOf({ RETRY_FCM_TOTAL_TIMEOUT: '30m', RETRY_FCM_CONFIGURATION_DELAY: '30m' })).toEqual([
        'RETRY_FCM_CONFIGURATION_DELAY: 30m leaves no second attempt within RETRY_FCM_TOTAL_TIMEOUT (30m)',
      ]);
      expect(problemsOf({ RETRY_TELEGRAM_CONFIGURATION_DELAY: '0s' })[0]).toMatch(/RETRY_TELEGRAM_CONFIGURATION_DELAY: must be longer than zero/);
    });

    test('left unset, the configuration delay is 10 minutes, or a quarter of a shorter budget', () => {
      expect(loadConfig({}).channels.retry.fcm.configurationRetryDelayMs).toBe(600_000);
      expect(loadConfig({ RETRY_WEBHOOK_TOTAL_TIMEOUT: '20m' }).channels.retry.webhook.configurationRetryDelayMs).toBe(300_000);
      expect(loadConfig({ RETRY_WEBPUSH_CONFIGURATION_DELAY: '45s' }).channels.retry.webpush.configurationRetryDelayMs).toBe(45_000);
    });

    test('equal bounds are fine', () => {
      const config = loadConfig({ RETRY_WEBHOOK_INITIAL_INTERVAL: '10s', RETRY_WEBHOOK_MAX_INTERVAL: '10s', RETRY_WEBHOOK_ATTEMPT_TIMEOUT: '1m', RETRY_WEBHOOK_TOTAL_TIMEOUT: '1m' });
      expect(config.channels.retry.webhook).toMatchObject({ initialIntervalMs: 10_000, maximumIntervalMs: 10_000, attemptTimeoutMs: 60_000, totalTimeoutMs: 60_000 });
    });
  });
});
