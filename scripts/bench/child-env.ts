// Child processes of the benchmark read their settings from the environment the driver gives them.

/** Settings of a child process the benchmark starts: a missing one is the benchmark's bug. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this process is started by scripts/bench)`);
  return value;
}
