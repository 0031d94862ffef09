import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deliveryKey, LIMITS } from '../../../src/alerts/alert.js';
import { parseAlertmanager } from '../../../src/alerts/alertmanager.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/alerts', name), 'utf8')) as Record<
    string,
    unknown
  >;
const firing = fixture('alertmanager-firing.json');
const resolved = fixture('alertmanager-resolved.json');

function ok(body: unknown) {
  const result = parseAlertmanager(body);
  if (!result.ok) throw new Error(`expected a parse, got: ${result.reason}`);
  return result;
}
function reason(body: unknown): string {
  const result = parseAlertmanager(body);
  if (result.ok) throw new Error('expected a failure');
  return result.reason;
}
const clone = <T>(value: T): T => structuredClone(value);
const oneAlert = (patch: Record<string, unknown>) => {
  const body = clone(firing);
  const alerts = body.alerts as Record<string, unknown>[];
  Object.assign(alerts[0]!, patch);
  return body;
};

describe('parseAlertmanager on the recorded payloads', () => {
  it('reads the firing delivery: service checkout, its fingerprint, a start and no end', () => {
    const result = ok(firing);
    expect(result.groupKey).toBe('{}:{alertname="Http500s", service="checkout"}');
    expect(result.truncatedAlerts).toBe(0);
    expect(result.unrouted).toEqual([]);
    expect(result.alerts).toHaveLength(1);
    const alert = result.alerts[0]!;
    expect(alert).toMatchObject({
      source: 'alertmanager',
      fingerprint: '0a1706f08640fc05',
      status: 'firing',
      service: 'checkout',
      environment: 'production',
      startsAt: Date.parse('2026-11-23T04:41:45.427Z'),
      endsAt: null,
      summary: '5xx on 127.0.0.1:9464',
      url: 'http://vm:9099/graph?g0.expr=rate%28http_requests_total%7Bstatus%3D%22500%22%7D%5B30s%5D%29+%3E+0&g0.tab=1',
    });
    expect({ ...alert.labels }).toEqual({
      alertname: 'Http500s',
      instance: '127.0.0.1:9464',
      job: 'bot',
      service: 'checkout',
      severity: 'page',
      status: '500',
    });
    expect({ ...alert.annotations }).toEqual({
      runbook: 'restart-service',
      summary: '5xx on 127.0.0.1:9464',
    });
  });

  it('reads the resolved delivery with its end time', () => {
    const alert = ok(resolved).alerts[0]!;
    expect(alert).toMatchObject({
      fingerprint: '0a1706f08640fc05',
      status: 'resolved',
      service: 'checkout',
      startsAt: Date.parse('2026-11-23T04:42:53.427Z'),
      endsAt: Date.parse('2026-11-23T04:43:24.427Z'),
    });
  });

  it('takes the environment from `environment`, else `env`', () => {
    expect(ok(oneAlert({ labels: { service: 's', env: 'staging' } })).alerts[0]!.environment).toBe('staging');
    expect(
      ok(oneAlert({ labels: { service: 's', env: 'staging', environment: 'eu-prod' } })).alerts[0]!
        .environment,
    ).toBe('eu-prod');
  });

  it('returns alerts without a service label apart, as unrouted', () => {
    const body = clone(firing);
    const alerts = body.alerts as Record<string, unknown>[];
    alerts.push({ ...alerts[0]!, labels: { alertname: 'Orphan' }, fingerprint: 'ffff' });
    const result = ok(body);
    expect(result.alerts.map((a) => a.fingerprint)).toEqual(['0a1706f08640fc05']);
    expect(result.unrouted).toHaveLength(1);
    expect(result.unrouted[0]).toMatchObject({
      fingerprint: 'ffff',
      service: null,
      summary: '5xx on 127.0.0.1:9464',
    });
  });
});

describe('deliveryKey', () => {
  const key = (body: unknown) => {
    const result = ok(body);
    return deliveryKey('alertmanager', result.groupKey, [...result.alerts, ...result.unrouted]);
  };

  it('is equal for a redelivery of the same notification, whatever the alert order', () => {
    expect(key(clone(firing))).toBe(key(firing));
    const two = clone(firing);
    const alerts = two.alerts as Record<string, unknown>[];
    alerts.push({ ...alerts[0]!, fingerprint: 'bbbb' });
    const swapped = clone(two);
    (swapped.alerts as unknown[]).reverse();
    expect(key(swapped)).toBe(key(two));
  });

  it('differs when the alert resolves, or another alert joins the group', () => {
    expect(key(resolved)).not.toBe(key(firing));
    const two = clone(firing);
    const alerts = two.alerts as Record<string, unknown>[];
    alerts.push({ ...alerts[0]!, fingerprint: 'bbbb' });
    expect(key(two)).not.toBe(key(firing));
  });
});

describe('parseAlertmanager on hostile input', () => {
  it('refuses what is not a payload, with a plain reason and the path', () => {
    expect(reason(null)).toBe('body: must be a mapping, not an empty value');
    expect(reason('alerts')).toMatch(/^body: must be a mapping/);
    const { alerts: _, ...noAlerts } = firing;
    expect(reason(noAlerts)).toBe('alerts: is required');
    expect(reason({ ...firing, alerts: {} })).toBe('alerts: must be a list, not a mapping');
    expect(reason(oneAlert({ startsAt: 'yesterday' }))).toBe('alerts[0].startsAt: not an ISO time');
    expect(reason(oneAlert({ startsAt: 1700000000 }))).toBe(
      'alerts[0].startsAt: must be an ISO time, not the number 1700000000',
    );
    expect(reason(oneAlert({ status: 'pending' }))).toMatch(
      /^alerts\[0\]\.status: must be one of "firing", "resolved"/,
    );
    expect(reason({ ...firing, groupKey: 42 })).toMatch(/^groupKey: /);
  });

  it('refuses labels with non-string values', () => {
    expect(reason(oneAlert({ labels: { service: 'checkout', replicas: 3 } }))).toBe(
      'alerts[0].labels.replicas: must be text, not the number 3',
    );
    expect(reason(oneAlert({ labels: { service: { nested: true } } }))).toMatch(
      /^alerts\[0\]\.labels\.service: /,
    );
  });

  it('caps label values and the number of alerts', () => {
    const long = 'x'.repeat(LIMITS.maxLabelValue + 1);
    expect(reason(oneAlert({ labels: { service: long } }))).toBe(
      `alerts[0].labels.service: longer than ${LIMITS.maxLabelValue} characters`,
    );
    expect(ok(oneAlert({ labels: { service: 'x'.repeat(LIMITS.maxLabelValue) } })).alerts).toHaveLength(1);

    const alert = (firing.alerts as unknown[])[0];
    const huge = { ...firing, alerts: Array.from({ length: 10_000 }, () => alert) };
    const started = performance.now();
    expect(reason(huge)).toBe('alerts: 10000 alerts, more than the 5000 accepted in one delivery');
    expect(performance.now() - started).toBeLessThan(50);
    expect(
      ok({ ...firing, alerts: Array.from({ length: LIMITS.maxAlerts }, () => alert) }).alerts,
    ).toHaveLength(LIMITS.maxAlerts);
  });

  it('keeps __proto__ and constructor keys as plain data, never touching Object.prototype', () => {
    const body = JSON.parse(
      JSON.stringify(firing).replace(
        '"alertname":"Http500s"',
        '"__proto__":"polluted","constructor":"x","alertname":"Http500s"',
      ),
    ) as unknown;
    const alert = ok(body).alerts[0]!;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(alert.labels)).toBeNull();
    expect(alert.labels.alertname).toBe('Http500s');
    // `__proto__` is dropped; `constructor` is an ordinary label.
    expect(Object.getOwnPropertyNames(alert.labels)).not.toContain('__proto__');
    expect(alert.labels.constructor).toBe('x');

    const objectProto = JSON.parse(
      JSON.stringify(firing).replace(
        '"alertname":"Http500s"',
        '"__proto__":{"isAdmin":"yes"},"alertname":"Http500s"',
      ),
    ) as unknown;
    const result = parseAlertmanager(objectProto);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(result.ok && result.alerts[0]!.labels.isAdmin).toBeUndefined();
  });
});
