/** The shipped Prometheus rules and Alertmanager route: parsed as YAML and held to the decision matrix. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../../manifests/prometheus');

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

describe('manifests/prometheus/rollback-rules.yaml', () => {
  const rules = (
    parse(readFileSync(join(dir, 'rollback-rules.yaml'), 'utf8')) as { groups: { rules: Rule[] }[] }
  ).groups.flatMap((group) => group.rules);

  it('has one rule per row of the decision matrix, with its window and threshold', () => {
    expect(rules.map((r) => [r.labels.rollback_trigger, r.for, r.labels.severity])).toEqual([
      ['error-rate', '5m', 'critical'],
      ['latency-p95', '10m', 'critical'],
      ['health-checks', '3m', 'critical'],
      ['memory', '5m', 'critical'],
      ['cpu', '10m', 'critical'],
    ]);
    expect(rules.map((r) => /> ([\d.]+)\s*$/.exec(r.expr)?.[1])).toEqual(['0.05', '2', '0.5', '0.9', '0.95']);
  });

  it('gives every alert a service label and a summary', () => {
    for (const rule of rules) {
      expect(rule.expr).toMatch(/service/);
      expect(rule.annotations.summary).toMatch(/\{\{ \$labels\.service \}\}/);
    }
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
