/** Alert deliveries as the real senders shape them, and a poster that signs them like they do. */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERT_TOKEN } from './bot-harness.js';

export interface TestAlert {
  name: string;
  service: string;
  status?: 'firing' | 'resolved';
  fingerprint?: string;
  startsAt: number;
  endsAt?: number;
  labels?: Record<string, string>;
  summary?: string;
}

/** Alertmanager's webhook payload version 4 (compare test/fixtures/alerts/alertmanager-firing.json, recorded from a real Alertmanager). */
export function alertmanagerPayload(alerts: TestAlert[], groupKey = 'group'): Record<string, unknown> {
  const status = alerts.some((a) => (a.status ?? 'firing') === 'firing') ? 'firing' : 'resolved';
  return {
    receiver: 'rollback-bot',
    status,
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: { alertname: a.name, service: a.service, ...a.labels },
      annotations: { summary: a.summary ?? `${a.name} on ${a.service}` },
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: a.endsAt === undefined ? '0001-01-01T00:00:00Z' : new Date(a.endsAt).toISOString(),
      generatorURL: 'http://prometheus.example/graph?g0.expr=up',
      fingerprint: a.fingerprint ?? `${a.service}-${a.name}`,
    })),
    groupLabels: { service: alerts[0]?.service ?? '' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
    version: '4',
    groupKey,
    truncatedAlerts: 0,
  };
}

export async function postAlerts(
  port: number,
  path: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${ALERT_TOKEN}` },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/**
 * The headers a generic sender signs `body` with at `atMs` (docs/alerts.md): the timestamp in Unix
 * seconds and `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>`. Written out here, not imported from
 * src, so the tests pin the wire format.
 */
export function genericSignedHeaders(
  body: string,
  atMs: number,
  secret = ALERT_TOKEN,
): Record<string, string> {
  const timestamp = String(Math.floor(atMs / 1000));
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-rollback-timestamp': timestamp, 'x-rollback-signature': `v0=${digest}` };
}

/** What Grafana sends with an HMAC secret and the timestamp header configured: hex of `ts:body`. */
export function grafanaSignedHeaders(
  body: string,
  atMs: number,
  secret = ALERT_TOKEN,
): Record<string, string> {
  const timestamp = String(Math.floor(atMs / 1000));
  return {
    'x-grafana-alerting-signature-timestamp': timestamp,
    'x-grafana-alerting-signature': createHmac('sha256', secret).update(`${timestamp}:${body}`).digest('hex'),
  };
}

/**
 * A plan file for alert storms: the e2e authority policy and `services` plans named `svc-00`,
 * `svc-01`, ... posting to `channel`. Returns the file's path (in a fresh temp directory).
 */
export function stormPlanFile(services: number, channel: string): string {
  const policy = readFileSync('test/fixtures/e2e/alert-plans.yaml', 'utf8').split('\n---\n')[0]!;
  const file = join(mkdtempSync(join(tmpdir(), 'rollback-bot-storm-')), 'plans.yaml');
  writeFileSync(file, [policy, ...stormPlans(services, channel)].join('\n---\n'));
  return file;
}

/** The storm's plans alone (`svc-00`, `svc-01`, ...), one YAML document each, naming policy `default`. */
export function stormPlans(services: number, channel: string): string[] {
  return Array.from({ length: services }, (_, i) => {
    const service = stormService(i);
    return `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata:
  name: ${service}
spec:
  service: ${service}
  channel: ${channel}
  environments: [production]
  criticality: medium
  rto: 15m
  authority: default
  defaultStrategy: restart
  strategies:
    restart:
      steps:
        - { name: Restart, uses: command, with: { argv: ["true"] } }`;
  });
}

export const stormService = (i: number): string => `svc-${String(i).padStart(2, '0')}`;
