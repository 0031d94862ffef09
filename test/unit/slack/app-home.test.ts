/** App Home and the freeze replies: goldens, Slack's limits, and the 100-block bound of a home view. */
import { describe, expect, it } from 'vitest';
import type { FreezeEntry } from '../../../src/app/freeze-service.js';
import { renderAppHome, type OpenIncident } from '../../../src/slack/blocks/app-home.js';
import { renderFreezeList, renderFrozen, renderThawed } from '../../../src/slack/blocks/freeze-replies.js';
import { checkBlockLimits, checkViewLimits } from '../../support/block-limits.js';
import { MINUTE, T0, USERS } from '../../support/domain-fixtures.js';
import { expectGolden } from '../../support/golden.js';
import {
  abortedView,
  declaredView,
  drillView,
  resolvedView,
  validatingView,
} from '../../support/view-fixtures.js';

const incidents: OpenIncident[] = [
  { service: 'user-service', environment: 'production', startedAt: T0, alertCount: 3, threadTs: '1.000100' },
  { service: 'search', environment: 'staging', startedAt: T0 + 5 * MINUTE, alertCount: 1 },
];

const freezes: FreezeEntry[] = [
  {
    service: 'checkout',
    environment: 'production',
    kind: 'manual',
    reason: 'Black Friday <no deploys> & no exceptions',
    by: USERS.lead,
    since: T0 - 60 * MINUTE,
  },
  {
    service: 'user-service',
    environment: 'production',
    kind: 'rollback',
    reason: 'rollback rb_01JDX4Q2 is declared',
    by: 'system',
    since: T0,
    rollbackId: 'rb_01JDX4Q2',
  },
];

describe('App Home', () => {
  it('shows active rollbacks (drills labelled), open incidents, freezes and recent history', () => {
    const view = renderAppHome({
      active: [declaredView(), { ...drillView(), id: 'rb_DRILL1' }, { ...validatingView(), id: 'rb_VALID1' }],
      incidents,
      freezes,
      recent: [
        { ...resolvedView(), id: 'rb_DONE1' },
        { ...abortedView(), id: 'rb_ABORT1', drill: true, environment: 'staging' },
      ],
      now: T0 + 20 * MINUTE,
    });
    expect(view.type).toBe('home');
    expect(checkViewLimits({ ...view, title: { type: 'plain_text', text: 'Home' } })).toEqual([]);
    const text = JSON.stringify(view);
    expect(text).toContain('🧪 drill');
    expect(text).not.toMatch(/https?:\/\//);
    expectGolden('app-home', view);
  });

  it('says so when there is nothing to show', () => {
    const view = renderAppHome({ active: [], incidents: [], freezes: [], recent: [], now: T0 });
    expect(checkBlockLimits(view.blocks, 100)).toEqual([]);
    expectGolden('app-home-empty', view);
  });

  it('stays within 100 blocks whatever the counts, and shows at most 10 ended rollbacks', () => {
    const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));
    const view = renderAppHome({
      active: many(300, (i) => ({ ...declaredView(), id: `rb_${i}` })),
      incidents: many(300, (i) => ({ ...incidents[0]!, service: `svc-${i}` })),
      freezes: many(300, (i) => ({ ...freezes[0]!, service: `svc-${i}` })),
      recent: many(300, (i) => ({ ...resolvedView(), id: `rb_old_${i}` })),
      now: T0,
    });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(checkBlockLimits(view.blocks, 100)).toEqual([]);
    const text = JSON.stringify(view);
    expect(text).toContain('… and 280 more');
    expect(text).toContain('rb_old_9');
    expect(text).not.toContain('rb_old_10');
  });
});

describe('freeze replies', () => {
  it('lists freezes, manual and held by a rollback, with user text escaped', () => {
    const list = renderFreezeList(freezes);
    expect(checkBlockLimits(list.blocks)).toEqual([]);
    expectGolden('freeze-list', list);
    expect(JSON.stringify(renderFreezeList([]))).toContain('No deployment freezes');
  });

  it('confirms a freeze and its lifting, saying when a rollback still holds it', () => {
    const freeze = {
      service: 'checkout',
      environment: 'production',
      by: USERS.lead,
      reason: 'release train',
      at: T0,
    };
    const frozen = renderFrozen(freeze);
    expect(checkBlockLimits(frozen.blocks)).toEqual([]);
    expect(frozen.text).toContain('Deploys of checkout to production are frozen: release train');
    expect(JSON.stringify(renderThawed(freeze))).toContain('CI may deploy again');
    expect(JSON.stringify(renderThawed(freeze, 'rollback rb-1 is executing'))).toContain(
      'stay frozen until the rollback ends: rollback rb-1 is executing',
    );
  });
});
