import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from '../logger';

const LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

let installed = false;

/** Sends the SDK's own logs (worker, workflow and activity loggers) through pino. Once per process. */
export function installTemporalLogging(log: Logger): void {
  if (installed) return;
  installed = true;
  const sdkLog = log.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger('INFO', ({ level, message, meta }: LogEntry) => {
      sdkLog[LEVELS[level]](meta ?? {}, message);
    }),
  });
}
