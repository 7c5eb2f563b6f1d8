import { spawnSync } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'temporal-bin.sh');

/**
 * Resolves the `temporal` CLI through scripts/temporal-bin.sh, the one place that knows the lookup
 * order, so the service, the tests and CI always agree on which binary runs.
 */
export function resolveTemporalBinary(cliPath?: string): string {
  const env = { ...process.env };
  if (cliPath) env.TEMPORAL_CLI_PATH = cliPath;
  const result = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const resolved = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !resolved) {
    throw new Error('No temporal CLI available (see the message above from scripts/temporal-bin.sh)');
  }
  return resolved;
}
