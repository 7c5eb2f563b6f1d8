// Debian packages the benchmark needs on this machine, installed with apt-get when missing (needs
// root, or sudo, as the PostgreSQL set-up does).
import { spawnSync } from 'node:child_process';

/** Installs `pkg` unless `isPresent()`; true when it is there afterwards. */
export function installDebianPackage(pkg: string, isPresent: () => boolean, purpose: string): boolean {
  if (isPresent()) return true;
  console.log(`${pkg} is missing (${purpose}): installing it from Debian packages (apt-get install ${pkg})`);
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args: string[]) =>
    spawnSync(asRoot[0] ?? args[0], asRoot.length ? args : args.slice(1), {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    }).status === 0;
  return run(['apt-get', 'update', '-qq']) && run(['apt-get', 'install', '-y', '-qq', pkg]) && isPresent();
}
