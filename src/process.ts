import { ConfigError } from './config';
import type { Logger } from './logger';

/**
 * Runs until SIGINT/SIGTERM (or the worker dies), then calls `stop` once. A second signal while
 * stopping exits at once, for an operator who does not want to wait for the drain.
 */
export async function runUntilSignal(log: Logger, workerDone: Promise<void>, stop: () => Promise<void>): Promise<void> {
  let stopping = false;
  const reason = await new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (stopping) {
          log.warn({ signal }, 'second signal: exiting without waiting');
          process.exit(130);
        }
        stopping = true;
        resolve(signal);
      });
    }
    workerDone.then(
      () => resolve('worker stopped'),
      (err) => {
        log.fatal({ err }, 'worker failed');
        process.exitCode = 1;
        resolve('worker failed');
      },
    );
  });
  stopping = true;
  log.info({ reason }, 'shutting down: API stops accepting, worker drains');
  await stop();
  log.info('stopped');
}

/** Start-up errors end the process with a message that names the problem, not a stack trace. */
export function startupFailed(err: unknown): never {
  const message = err instanceof ConfigError ? err.message : `Herald failed to start: ${(err as Error)?.message ?? err}`;
  console.error(message);
  process.exit(1);
}
