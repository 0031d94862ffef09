/** Which production strategies are overdue for a drill, and how "last tested" reads. */
import { describe, expect, it } from 'vitest';
import {
  DRILL_MAX_AGE_MS,
  lastTestedText,
  staleDrillMessage,
  staleDrills,
  type DrillRecord,
} from '../../../src/app/drill-records.js';
import type { RollbackPlan } from '../../../src/domain/plan.js';
import { standardStrategy, T0 } from '../../support/domain-fixtures.js';

const DAY = 86_400_000;

function plan(service: string, environments: string[]): RollbackPlan {
  return {
    name: service,
    service,
    channel: 'C1',
    environments,
    criticality: 'high',
    rtoMs: 15 * 60_000,
    authority: 'default',
    defaultStrategy: 'blue-green',
    strategies: {
      'blue-green': standardStrategy({ name: 'blue-green' }),
      canary: standardStrategy({ name: 'canary' }),
    },
    triggers: [],
    limitations: [],
  };
}

const drill = (service: string, strategy: string, daysAgo: number, id = `rb-${service}`): DrillRecord => ({
  service,
  strategy,
  rollbackId: id,
  at: T0 - daysAgo * DAY,
  by: 'U1',
});

describe('drill records', () => {
  const plans = [
    plan('fresh', ['production', 'staging']),
    plan('old', ['production', 'staging']),
    plan('never', ['production', 'staging']),
    plan('other-strategy', ['production', 'staging']),
    plan('no-staging', ['production']),
    plan('staging-only', ['staging']),
  ];
  const records = [
    drill('fresh', 'blue-green', 40, 'rb-older'),
    drill('fresh', 'blue-green', 29, 'rb-newer'),
    drill('old', 'blue-green', 31),
    drill('other-strategy', 'canary', 1),
  ];

  it('warns for production plans whose default strategy was not drilled within 30 days', () => {
    const stale = staleDrills(plans, records, T0);
    expect(stale.map((s) => [s.service, s.last?.rollbackId ?? null, s.drillable])).toEqual([
      ['never', null, true],
      ['no-staging', null, false],
      ['old', 'rb-old', true],
      ['other-strategy', null, true],
    ]);
    expect(staleDrills(plans, records, T0 - 2 * DAY).map((s) => s.service)).not.toContain('old');
    expect(DRILL_MAX_AGE_MS).toBe(30 * DAY);
  });

  it('says what to do: drill it, or give the plan a staging environment', () => {
    const [never, noStaging, old] = staleDrills(plans, records, T0);
    expect(staleDrillMessage(never!)).toBe(
      'production strategy "blue-green" has not been drilled in the last 30 days (never drilled): run `/rollback drill never`',
    );
    expect(staleDrillMessage(noStaging!)).toMatch(/add staging to spec.environments so it can be drilled$/);
    expect(staleDrillMessage(old!)).toContain('(last tested: 2026-10-23 (drill rb-old))');
  });

  it('reads "last tested" with the date and the drill, or "never drilled"', () => {
    expect(lastTestedText(null)).toBe('never drilled');
    expect(lastTestedText(drill('a', 'b', 0, 'rb-1'))).toBe('last tested: 2026-11-23 (drill rb-1)');
  });
});
