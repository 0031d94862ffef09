import { describe, expect, it } from 'vitest';
import { matchTrigger } from '../../../src/domain/incident.js';
import type { TriggerSpec } from '../../../src/domain/plan.js';

const triggers: TriggerSpec[] = [
  {
    name: 'error-rate',
    match: { rollback_trigger: 'error-rate', severity: 'critical' },
    action: 'auto',
    delayMs: 0,
  },
  { name: 'memory', match: { rollback_trigger: 'memory' }, action: 'auto', delayMs: 30_000 },
  { name: 'anything', match: {}, action: 'propose', delayMs: 0 },
];

describe('matchTrigger', () => {
  it('returns the first trigger whose match labels all equal the alert labels', () => {
    expect(
      matchTrigger(triggers, { rollback_trigger: 'error-rate', severity: 'critical', x: 'y' })?.name,
    ).toBe('error-rate');
    expect(matchTrigger(triggers, { rollback_trigger: 'memory' })?.name).toBe('memory');
  });

  it('needs every label: a partial match falls through to the next trigger', () => {
    expect(matchTrigger(triggers, { rollback_trigger: 'error-rate', severity: 'page' })?.name).toBe(
      'anything',
    );
    expect(matchTrigger(triggers.slice(0, 2), { rollback_trigger: 'error-rate' })).toBeUndefined();
    expect(matchTrigger([], { a: 'b' })).toBeUndefined();
  });

  it('never matches through the prototype', () => {
    const proto = [
      { name: 'p', match: { constructor: 'x' }, action: 'auto', delayMs: 0 } satisfies TriggerSpec,
    ];
    expect(matchTrigger(proto, Object.create(null) as Record<string, string>)).toBeUndefined();
    expect(matchTrigger(proto, {})).toBeUndefined();
  });
});
