import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from '../logger';

const LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

let installed = false;

const NO_WORKFLOWS = 'No workflows registered, not polling for workflow tasks';

/**
 * Sets up the SDK's runtime, once per process: its own logs (worker, workflow and activity loggers)
 * go through pino, and, when `metricsAddress` is given, its worker metrics (task latencies, slots,
 * sticky cache, polls) are served by its Prometheus exporter there.
 */
export function installTemporalRuntime(log: Logger, { metricsAddress }: { metricsAddress?: string } = {}): void {
  if (installed) return;
  installed = true;
  const sdkLog = log.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger('INFO', ({ level, message, meta }: LogEntry) => {
      // The workflow bundler reports webpack's build as dozens of lines at INFO, and each channel's
      // activity-only worker warns that it runs no workflows, as meant: both kept at debug, out of the way.
      const expected = (level === 'INFO' && message.includes('\n')) || message === NO_WORKFLOWS;
      const quieter = expected ? 'debug' : LEVELS[level];
      sdkLog[quieter](meta ?? {}, message);
    }),
    // The SDK's default list adds SIGUSR2, node's diagnostic-report signal (`--report-on-signal`):
    // asking a worker for its report would stop it. Herald stops on the three below only.
    shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT'],
    ...(metricsAddress
      ? {
          telemetryOptions: {
            metrics: { prometheus: { bindAddress: metricsAddress, countersTotalSuffix: true, useSecondsForDurations: true, unitSuffix: true } },
          },
        }
      : {}),
  });
}
