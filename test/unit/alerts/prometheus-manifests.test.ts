/**
 * The shipped Prometheus rules, their promtool unit tests and the Alertmanager route, parsed as YAML:
 * the rules held to the seeds' triggers, and every alert covered by a promtool case that fires it and
 * one that does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../../manifests/prometheus');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}

interface RuleTests {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: AlertRuleTest[] }[];
}

const rules = (
  parse(readFileSync(join(dir, 'rollback-rules.yaml'), 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((group) => group.rules);
const alerts = rules.filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined);

describe('manifests/prometheus/rollback-rules.yaml', () => {
  it("has one alert per trigger of the seeds that a metric measures, with the seed's window", () => {
    expect(alerts.map((r) => [r.alert, r.labels?.rollback_trigger, r.for ?? null])).toEqual([
      // Seed 004's decision matrix.
      ['RollbackErrorRateHigh', 'error-rate', '5m'],
      ['RollbackLatencyP95High', 'latency-p95', '10m'],
      ['RollbackHealthChecksFailing', 'health-checks', '3m'],
      ['RollbackMemoryHigh', 'memory', '5m'],
      ['RollbackCpuHigh', 'cpu', '10m'],
      // Seed 000: no durations given.
      ['RollbackHealthChecksConsecutiveFailures', 'health-consecutive-failures', null],
      ['RollbackErrorRateIncrease', 'error-rate-increase', null],
      ['RollbackLatencyDoubled', 'latency-2x', null],
      // Seed 001 ("immediately"); its P95 +50 % is seed 002's, for 3m.
      ['RollbackErrorRateOverBaseline', 'error-rate-over-baseline', null],
      ['RollbackLatencyP95Regression', 'latency-p95-regression', '3m'],
      // Seed 002.
      ['RollbackErrorRateHigh2m', 'error-rate-2m', '2m'],
      ['RollbackHealthChecksDown', 'health-checks-down', '5m'],
    ]);
  });

  it('holds the thresholds of seed 004', () => {
    expect(alerts.slice(0, 5).map((r) => /> ([\d.]+)\s*$/.exec(r.expr)?.[1])).toEqual([
      '0.05',
      '2',
      '0.5',
      '0.9',
      '0.95',
    ]);
  });

  it('gives every alert a critical severity, a rollback_trigger of its own, a summary naming the service and a description', () => {
    for (const rule of alerts) {
      expect(rule.labels?.severity, rule.alert).toBe('critical');
      expect(rule.annotations?.summary, rule.alert).toMatch(/^\{\{ \$labels\.service \}\}: /);
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
    const triggers = alerts.map((r) => r.labels?.rollback_trigger);
    expect(new Set(triggers).size).toBe(alerts.length);
  });

  it('keeps service and environment through every aggregation and every vector match', () => {
    for (const rule of rules) {
      const name = rule.alert ?? rule.record;
      expect(rule.expr, name).toMatch(/service/);
      expect(rule.expr, name).not.toMatch(/\b(without|ignoring)\s*\(/);
      const groupings = [...rule.expr.matchAll(/\b(by|on)\s*\(([^)]*)\)/g)].map((m) =>
        m[2]!.split(/\s*,\s*/),
      );
      for (const labels of groupings) expect(labels, name).toContain('environment');
      // The HTTP and probe rules group by service; the cAdvisor ones make it from the container name.
      for (const labels of groupings)
        expect(
          labels.includes('service') || labels.includes('container'),
          `${name}: ${labels.join(', ')}`,
        ).toBe(true);
    }
  });
});

describe('manifests/prometheus/rollback-rules.test.yaml (run by promtool in test/integration)', () => {
  const suite = parse(readFileSync(join(dir, 'rollback-rules.test.yaml'), 'utf8')) as RuleTests;
  const cases = suite.tests.flatMap((test) => test.alert_rule_test ?? []);
  const fires = (c: AlertRuleTest) => (c.exp_alerts ?? []).length > 0;

  it('tests the shipped rules file', () => {
    expect(suite.rule_files).toEqual(['rollback-rules.yaml']);
  });

  it.each(alerts)(
    '$alert fires in a case that asserts its service, environment, severity and rollback_trigger',
    (rule) => {
      const firing = cases.filter((c) => c.alertname === rule.alert && fires(c));
      expect(firing, `no promtool case fires ${rule.alert}`).not.toHaveLength(0);
      for (const expected of firing.flatMap((c) => c.exp_alerts ?? [])) {
        const { service, environment, severity, rollback_trigger } = expected.exp_labels ?? {};
        expect(service, 'exp_labels.service').toMatch(/^\S+$/);
        expect(environment, 'exp_labels.environment').toMatch(/^\S+$/);
        expect({ severity, rollback_trigger }).toEqual({
          severity: rule.labels?.severity,
          rollback_trigger: rule.labels?.rollback_trigger,
        });
        expect(
          expected.exp_annotations?.summary?.startsWith(`${service}: `),
          'the summary names the service',
        ).toBe(true);
      }
    },
  );

  it.each(alerts)('$alert has a case where it does not fire', (rule) => {
    expect(
      cases.filter((c) => c.alertname === rule.alert && !fires(c)),
      `no promtool case expects ${rule.alert} silent`,
    ).not.toHaveLength(0);
  });

  it('names only alerts of the rules file (promtool passes a silent case for an unknown name)', () => {
    const names = new Set(alerts.map((rule) => rule.alert));
    expect(cases.map((c) => c.alertname).filter((name) => !names.has(name))).toEqual([]);
  });
});

describe('manifests/prometheus/alertmanager-route.yaml', () => {
  const config = parse(readFileSync(join(dir, 'alertmanager-route.yaml'), 'utf8')) as {
    route: { routes: { receiver: string; group_by: string[] }[] };
    receivers: { name: string; webhook_configs?: Record<string, unknown>[] }[];
  };

  it('routes to the bot grouped by service, environment and alert name, resolved included, with a bearer', () => {
    const route = config.route.routes.find((r) => r.receiver === 'rollback-bot');
    expect(route?.group_by).toEqual(['service', 'environment', 'alertname']);
    const webhook = config.receivers.find((r) => r.name === 'rollback-bot')?.webhook_configs?.[0];
    expect(webhook).toMatchObject({
      url: 'https://YOUR-BOT-HOST/alerts/alertmanager',
      send_resolved: true,
      http_config: { authorization: { type: 'Bearer' } },
    });
  });
});
