import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/*
 * The alert rules operators load into Prometheus: valid, and each alert fires on the case it is for
 * and stays quiet otherwise (deploy/prometheus/alerts.test.yml). promtool comes from Debian's
 * prometheus package; `npm test` installs it when missing.
 */
const PROMETHEUS_DIR = path.resolve(__dirname, '..', '..', 'deploy', 'prometheus');

function promtool(...args: string[]) {
  const binary = process.env.PROMTOOL_PATH;
  if (!binary) throw new Error('PROMTOOL_PATH is not set: run the suite with `npm test`, which installs promtool');
  const run = spawnSync(binary, args, { cwd: PROMETHEUS_DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('alert rules', () => {
  test('promtool check rules accepts them', () => {
    const { status, output } = promtool('check', 'rules', 'alerts.yml');
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  test('promtool test rules: every alert fires on its case and only there', () => {
    const { status, output } = promtool('test', 'rules', 'alerts.test.yml');
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  test('every alert has a case where it fires', () => {
    const rules = fs.readFileSync(path.join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8');
    const tests = fs.readFileSync(path.join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts.length).toBeGreaterThanOrEqual(7);
    const fires = (alert: string) => new RegExp(`alertname: ${alert}\\s+exp_alerts:\\s+- exp_labels`).test(tests);
    expect(alerts.filter((alert) => !fires(alert))).toEqual([]);
  });
});
