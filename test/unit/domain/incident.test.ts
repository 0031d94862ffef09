import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allResolved,
  MAX_INCIDENT_ALERTS,
  mergeAlerts,
  type Incident,
  type IncomingAlert,
} from '../../../src/domain/incident.js';
import type { TriggerSpec } from '../../../src/domain/plan.js';

const T0 = Date.parse('2026-11-23T04:00:00Z');
let ids = 0;
const newId = () => `inc-${++ids}`;

function alert(
  fingerprint: string,
  status: 'firing' | 'resolved',
  startsAt = T0,
  labels: Record<string, string> = {},
): IncomingAlert {
  return {
    fingerprint,
    status,
    name: fingerprint,
    summary: `${fingerprint} summary`,
    source: 'alertmanager',
    startsAt,
    endsAt: status === 'resolved' ? startsAt + 60_000 : null,
    url: null,
    labels,
  };
}

function apply(
  current: Incident | null,
  alerts: IncomingAlert[],
  triggers: TriggerSpec[] = [],
  at = T0 + 120_000,
) {
  return mergeAlerts({
    current,
    alerts,
    service: 'checkout',
    environment: 'production',
    triggers,
    at,
    newId,
  });
}

describe('mergeAlerts', () => {
  it("keeps the severity label of the first firing alert that has one, for stakeholders' messages", () => {
    const opened = apply(null, [alert('a', 'firing'), alert('b', 'firing', T0, { severity: ' critical ' })])!;
    expect(opened.incident.severity).toBe('critical');
    const later = apply(opened.incident, [alert('c', 'firing', T0, { severity: 'warning' })])!;
    expect(later.incident.severity).toBe('critical');
    const none = apply(null, [alert('d', 'firing'), alert('e', 'resolved', T0, { severity: 'page' })])!;
    expect(none.incident).not.toHaveProperty('severity');
    const proto = apply(null, [
      alert('f', 'firing', T0, Object.create({ severity: 'inherited' }) as Record<string, string>),
    ])!;
    expect(proto.incident).not.toHaveProperty('severity');
  });

  it('opens an incident on the first firing alert, starting at the earliest startsAt', () => {
    const result = apply(null, [alert('a', 'firing', T0 + 5_000), alert('b', 'firing', T0)])!;
    expect(result.opened).toBe(true);
    expect(result.incident.startedAt).toBe(T0);
    expect(result.incident.unannounced).toEqual({ firing: [], resolved: [] });
  });

  it('takes the receive time for a start more than a day old or in the future, and says so', () => {
    const at = T0 + 120_000;
    const ancient = apply(null, [alert('a', 'firing', 0)], [], at)!;
    expect(ancient.incident.startedAt).toBe(at);
    expect(ancient.unbelievedStarts).toEqual([
      {
        fingerprint: 'a',
        name: 'a',
        problem: '1970-01-01T00:00:00.000Z is more than 24 hours before now (2026-11-23T04:02:00.000Z)',
      },
    ]);
    expect(ancient.incident.startNote).toBe(
      "a's startsAt 1970-01-01T00:00:00.000Z is more than 24 hours before now (2026-11-23T04:02:00.000Z): the time it was received stands in",
    );
    // The alert keeps what it said, so its episodes and late copies are still told apart.
    expect(ancient.incident.alerts[0]?.startsAt).toBe(0);
    expect(
      apply(null, [alert('f', 'firing', Date.parse('2999-01-01T00:00:00Z'))], [], at)!.incident.startedAt,
    ).toBe(at);
    // A day back and a minute of clock skew ahead are believed, and need no note.
    const dayOld = apply(null, [alert('d', 'firing', at - 24 * 3_600_000)], [], at)!;
    expect(dayOld.incident.startedAt).toBe(at - 24 * 3_600_000);
    expect(dayOld.unbelievedStarts).toEqual([]);
    expect(dayOld.incident.startNote).toBeUndefined();
    // An unbelievable alert joining an incident with a believable start moves nothing and notes nothing on it.
    const joined = apply(dayOld.incident, [alert('z', 'firing', 0)], [], at)!;
    expect(joined.incident.startedAt).toBe(at - 24 * 3_600_000);
    expect(joined.unbelievedStarts).toHaveLength(1);
    expect(joined.incident.startNote).toBeUndefined();
  });

  it('ignores resolved alerts when nothing is open', () => {
    expect(apply(null, [alert('a', 'resolved')])).toBeNull();
  });

  it('is idempotent: the same delivery twice changes nothing the second time', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ f: fc.constantFrom('a', 'b', 'c', 'd'), firing: fc.boolean(), start: fc.nat(1_000) }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (list) => {
          const alerts = list.map((x) => alert(x.f, x.firing ? 'firing' : 'resolved', T0 + x.start));
          const opened = apply(null, [alert('seed', 'firing')])!.incident;
          const once = apply(opened, alerts)!;
          const twice = apply(once.incident, alerts)!;
          expect(twice.firing).toEqual([]);
          expect(twice.resolved).toEqual([]);
          expect(twice.incident.alerts).toEqual(once.incident.alerts);
        },
      ),
    );
  });

  it('does not let a late firing copy undo a resolution, but a new episode fires again', () => {
    const opened = apply(null, [alert('a', 'firing', T0)])!.incident;
    const resolved = apply(opened, [{ ...alert('a', 'resolved', T0), endsAt: T0 + 60_000 }])!;
    expect(resolved.resolved).toEqual(['a']);
    expect(allResolved(resolved.incident)).toBe(true);
    const late = apply(resolved.incident, [alert('a', 'firing', T0)])!;
    expect(late.unchanged).toBe(1);
    const again = apply(resolved.incident, [alert('a', 'firing', T0 + 120_000)])!;
    expect(again.firing).toEqual(['a']);
    expect(again.incident.unannounced.firing).toEqual(['a']);
  });

  it('decides the trigger once: the first matching alert, else the default offer', () => {
    const triggers: TriggerSpec[] = [
      {
        name: 'errors',
        match: { rollback_trigger: 'error-rate' },
        action: 'auto',
        delayMs: 30_000,
        strategy: 'flag',
      },
    ];
    const plain = apply(null, [alert('a', 'firing')], triggers)!;
    expect(plain.trigger).toMatchObject({ name: null, action: 'propose' });
    const matched = apply(
      null,
      [alert('a', 'firing'), alert('b', 'firing', T0, { rollback_trigger: 'error-rate' })],
      triggers,
    )!;
    expect(matched.trigger).toMatchObject({
      name: 'errors',
      action: 'auto',
      delayMs: 30_000,
      strategy: 'flag',
      fingerprint: 'b',
    });
    const later = apply(
      matched.incident,
      [alert('c', 'firing', T0, { rollback_trigger: 'error-rate' })],
      triggers,
    )!;
    expect(later.trigger).toBeNull();
  });

  it('a late resolution of an earlier episode does not end the current one', () => {
    const opened = apply(null, [alert('a', 'firing', T0)])!.incident;
    const ended = apply(opened, [{ ...alert('a', 'resolved', T0), endsAt: T0 + 60_000 }])!.incident;
    const again = apply(ended, [alert('a', 'firing', T0 + 120_000)])!.incident;
    const late = apply(again, [{ ...alert('a', 'resolved', T0), endsAt: T0 + 60_000 }])!;
    expect(late.unchanged).toBe(1);
    expect(late.incident.alerts[0]).toMatchObject({ status: 'firing', startsAt: T0 + 120_000 });
  });

  it('takes triggers in plan order, and a matching trigger replaces the default offer nobody used', () => {
    const triggers: TriggerSpec[] = [
      { name: 'critical', match: { severity: 'critical' }, action: 'auto', delayMs: 0 },
      { name: 'errors', match: { rollback_trigger: 'error-rate' }, action: 'propose', delayMs: 0 },
    ];
    const both = apply(
      null,
      [
        alert('x', 'firing', T0, { rollback_trigger: 'error-rate' }),
        alert('y', 'firing', T0, { severity: 'critical' }),
      ],
      triggers,
    )!;
    expect(both.trigger).toMatchObject({ name: 'critical', fingerprint: 'y', settled: false });

    const plain = apply(null, [alert('a', 'firing')], triggers)!;
    expect(plain.trigger).toMatchObject({ name: null, settled: true });
    const upgraded = apply(plain.incident, [alert('b', 'firing', T0, { severity: 'critical' })], triggers)!;
    expect(upgraded.trigger).toMatchObject({ name: 'critical', action: 'auto' });
    // Once someone declared from the offer, it stays.
    const used = { ...plain.incident, rollbackIds: ['rb-1'] };
    expect(apply(used, [alert('b', 'firing', T0, { severity: 'critical' })], triggers)!.trigger).toBeNull();
  });

  it('at the cap, forgets the oldest resolved alert to keep a new firing one', () => {
    let incident = apply(null, [alert('seed', 'firing')])!.incident;
    const many = Array.from({ length: MAX_INCIDENT_ALERTS - 1 }, (_, i) => alert(`r${i}`, 'resolved'));
    incident = apply(incident, many)!.incident;
    expect(incident.alerts).toHaveLength(MAX_INCIDENT_ALERTS);
    const next = apply(incident, [alert('new', 'firing', T0 + 1)])!;
    expect(next.firing).toEqual(['new']);
    expect(next.incident.alerts).toHaveLength(MAX_INCIDENT_ALERTS);
    expect(next.incident.alerts.some((a) => a.fingerprint === 'r0')).toBe(false);
    expect(next.incident.overflow).toBe(0);
  });

  it('a fingerprint named __proto__ is data, not a prototype', () => {
    const result = apply(null, [alert('__proto__', 'firing'), alert('constructor', 'firing')])!;
    expect(result.incident.alerts.map((a) => a.fingerprint)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>)['status']).toBeUndefined();
  });

  it('a closed incident is replaced by a new one when its service fires again', () => {
    const opened = apply(null, [alert('a', 'firing')])!.incident;
    const closed = { ...apply(opened, [alert('a', 'resolved')])!.incident, closedAt: T0 + 200_000 };
    const next = apply(closed, [alert('b', 'firing', T0 + 300_000)])!;
    expect(next.opened).toBe(true);
    expect(next.incident.id).not.toBe(closed.id);
  });
});
