import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAlertmanager } from '../../../src/alerts/alertmanager.js';
import { genericSignature, parseGeneric, verifyGenericSignature } from '../../../src/alerts/generic.js';
import { parseGrafana, verifyGrafanaSignature } from '../../../src/alerts/grafana.js';

const raw = readFileSync(join(import.meta.dirname, '../../fixtures/alerts/grafana-firing.json'), 'utf8');
const secret = 'grafana-hmac-secret';
const hex = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');

describe('parseGrafana on a sample payload written from the Grafana docs', () => {
  it('normalises the routed alert, prefers the panel link, and sets the unrouted one apart', () => {
    const result = parseGrafana(JSON.parse(raw));
    if (!result.ok) throw new Error(result.reason);
    expect(result.groupKey).toBe('{}/{service=~".+"}:{alertname="CheckoutErrorRate"}');
    expect(result.alerts).toHaveLength(1);
    expect(result.alerts[0]).toMatchObject({
      source: 'grafana',
      fingerprint: '5b1e2a37c0d4f912',
      status: 'firing',
      service: 'checkout',
      environment: 'staging',
      startsAt: Date.parse('2026-11-23T03:40:00.123Z'),
      endsAt: null,
      summary: 'checkout error rate 7.2 %',
      url: 'https://grafana.example.com/d/checkout?viewPanel=4',
    });
    expect(result.unrouted).toHaveLength(1);
    expect(result.unrouted[0]).toMatchObject({
      fingerprint: 'aa00bb11cc22dd33',
      summary: 'DiskAlmostFull',
      url: 'https://grafana.example.com/alerting/grafana/dk2/view',
    });
  });

  it('refuses a wrong type with the path', () => {
    const body = JSON.parse(raw) as { alerts: Record<string, unknown>[] };
    body.alerts[1]!.endsAt = 'soon';
    const result = parseGrafana(body);
    expect(result).toEqual({ ok: false, reason: 'alerts[1].endsAt: not an ISO time' });
    expect(parseAlertmanager(body)).toEqual(result);
  });
});

describe('verifyGrafanaSignature', () => {
  const ts = '1795408800';
  const signed = `${ts}:${raw}`;

  it('accepts the hex HMAC-SHA256 of `timestamp:body` (Grafana with a timestamp header)', () => {
    expect(verifyGrafanaSignature(raw, hex(secret, signed), secret, ts)).toBe(true);
    expect(verifyGrafanaSignature(Buffer.from(raw), hex(secret, signed).toUpperCase(), secret, ts)).toBe(
      true,
    );
  });

  it('refuses a body-only signature: without a signed time it could be replayed', () => {
    expect(verifyGrafanaSignature(raw, hex(secret, raw), secret, ts)).toBe(false);
    expect(verifyGrafanaSignature(raw, hex(secret, raw), secret, '')).toBe(false);
  });

  it('refuses a bad, tampered, malformed or missing signature, or another timestamp', () => {
    expect(verifyGrafanaSignature(raw, hex('other-secret', signed), secret, ts)).toBe(false);
    expect(verifyGrafanaSignature(`${raw} `, hex(secret, signed), secret, ts)).toBe(false);
    expect(verifyGrafanaSignature(raw, hex(secret, signed), secret, '1795408801')).toBe(false);
    expect(verifyGrafanaSignature(raw, `sha256=${hex(secret, signed)}`, secret, ts)).toBe(false);
    expect(verifyGrafanaSignature(raw, hex(secret, signed).slice(0, 10), secret, ts)).toBe(false);
    expect(verifyGrafanaSignature(raw, undefined, secret, ts)).toBe(false);
    expect(verifyGrafanaSignature(raw, hex('', signed), '', ts)).toBe(false);
  });
});

describe('the generic webhook', () => {
  const now = Date.parse('2026-11-23T05:00:00Z');
  const one = {
    service: 'checkout',
    status: 'firing',
    title: 'Checkout error rate above 5 %',
    labels: { team: 'payments', service: 'ignored' },
    url: 'https://ci.example.com/runs/12',
  };

  it('reads one alert, filling the environment, the start and a stable fingerprint', () => {
    const result = parseGeneric(one, now);
    if (!result.ok) throw new Error(result.reason);
    const alert = result.alerts[0]!;
    expect(alert).toMatchObject({
      source: 'generic',
      service: 'checkout',
      environment: 'production',
      status: 'firing',
      startsAt: now,
      endsAt: null,
      summary: 'Checkout error rate above 5 %',
      url: 'https://ci.example.com/runs/12',
    });
    expect({ ...alert.labels }).toEqual({
      team: 'payments',
      service: 'checkout',
      environment: 'production',
      alertname: 'Checkout error rate above 5 %',
    });
    expect(alert.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const again = parseGeneric({ ...one, status: 'resolved' }, now + 60_000);
    expect(again.ok && again.alerts[0]!.fingerprint).toBe(alert.fingerprint);
  });

  it('reads a list, and refuses a bad field with its path', () => {
    const result = parseGeneric([one, { ...one, environment: 'staging', fingerprint: 'fp-2' }], now);
    expect(result.ok && result.alerts.map((a) => [a.environment, a.fingerprint.length])).toEqual([
      ['production', 16],
      ['staging', 4],
    ]);
    expect(parseGeneric([one, { ...one, status: 'open' }], now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^\[1\]\.status: must be one of "firing", "resolved"/) as unknown,
    });
    expect(parseGeneric({ ...one, title: undefined }, now)).toEqual({
      ok: false,
      reason: 'title: is required',
    });
    expect(parseGeneric({ ...one, startsAt: 'now' }, now)).toEqual({
      ok: false,
      reason: 'startsAt: not an ISO time',
    });
    expect(parseGeneric({ ...one, sevrity: 'high' }, now)).toMatchObject({ ok: false });
    expect(parseGeneric([], now)).toMatchObject({ ok: false });
    expect(
      parseGeneric(
        Array.from({ length: 10_000 }, () => one),
        now,
      ),
    ).toEqual({
      ok: false,
      reason: 'body: 10000 alerts, more than the 5000 accepted in one delivery',
    });
  });

  it('accepts the example of docs/alerts.md', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/alerts.md'), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const result = parseGeneric(JSON.parse(example), now);
    expect(result.ok && result.alerts[0]).toMatchObject({
      service: 'checkout',
      fingerprint: 'ci-run-1234',
      startsAt: Date.parse('2026-11-23T04:41:45Z'),
      labels: { rollback_trigger: 'error-rate' },
    });
  });

  it('checks X-Rollback-Signature: v0=<hex> over v0:<timestamp>:<body>, and the bearer token', () => {
    const body = JSON.stringify(one);
    const ts = '1795408800';
    const v0 = (key: string, data: string) => `v0=${hex(key, `v0:${ts}:${data}`)}`;
    expect(verifyGenericSignature(body, v0('s3cret', body), ts, 's3cret')).toBe(true);
    expect(genericSignature(body, ts, 's3cret')).toBe(v0('s3cret', body));
    expect(verifyGenericSignature(body, v0('wrong', body), ts, 's3cret')).toBe(false);
    expect(verifyGenericSignature(body, v0('s3cret', body), '1795408801', 's3cret')).toBe(false);
    expect(verifyGenericSignature(body, v0('s3cret', body).slice(3), ts, 's3cret')).toBe(false);
    expect(verifyGenericSignature(`${body}\n`, v0('s3cret', body), ts, 's3cret')).toBe(false);
    // The old body-only signature is refused: it signs no time, so it could be replayed.
    expect(verifyGenericSignature(body, `sha256=${hex('s3cret', body)}`, ts, 's3cret')).toBe(false);
    expect(verifyGenericSignature(body, `v0=${hex('s3cret', body)}`, ts, 's3cret')).toBe(false);
  });
});
