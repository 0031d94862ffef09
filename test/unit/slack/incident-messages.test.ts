/**
 * The incident's one message: the incident (what fires, what was deployed) and the status card of the
 * rollback declared in it, the newest in full and the earlier ones a line each, within Slack's limits.
 */
import { describe, expect, it } from 'vitest';
import type { RollbackView } from '../../../src/app/rollback-view.js';
import type { Incident, IncidentAlert } from '../../../src/domain/incident.js';
import { renderIncidentParent, type IncidentRollback } from '../../../src/slack/blocks/incident-messages.js';
import { LIMITS } from '../../../src/slack/blocks/kit.js';
import { checkBlockLimits, checkMrkdwn } from '../../support/block-limits.js';
import { MINUTE, T0 } from '../../support/domain-fixtures.js';
import { expectGolden } from '../../support/golden.js';
import {
  LIMITATIONS,
  abortedView,
  baseView,
  declaredView,
  iso,
  resolvedView,
  stabilizingView,
} from '../../support/view-fixtures.js';

const NOW = T0 + 10 * MINUTE;

const alert = (n: number, extra: Partial<IncidentAlert> = {}): IncidentAlert => ({
  fingerprint: `f${n}`,
  status: 'firing',
  name: `HighErrorRate${n}`,
  summary: `5xx above 5% on pod ${n}`,
  source: 'alertmanager',
  startsAt: T0 + n * 1_000,
  endsAt: null,
  url: null,
  ...extra,
});

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-7f3a2c',
    service: 'user-service',
    environment: 'production',
    startedAt: T0,
    openedAt: T0,
    closedAt: null,
    alerts: [alert(1), alert(2, { status: 'resolved', endsAt: T0 + MINUTE })],
    overflow: 0,
    unannounced: { firing: [], resolved: [] },
    rollbackIds: [],
    trigger: null,
    deliveries: 2,
    ...overrides,
  };
}

const DEPLOYMENTS = [
  {
    service: 'user-service',
    environment: 'production',
    version: 'v1.5.0',
    commit: 'abc1234def567',
    by: 'U0CI',
    at: T0 - 10 * MINUTE,
  },
];

const rollback = (view: RollbackView, acceptedEvents: string[], here = true): IncidentRollback => ({
  card: { view, limitations: LIMITATIONS, acceptedEvents, now: NOW, approvalsRequired: 1 },
  here,
});

const render = (rollbacks: IncidentRollback[], extra: Partial<Incident> = {}) =>
  renderIncidentParent({
    incident: incident({ rollbackIds: rollbacks.map((r) => r.card.view.id), ...extra }),
    deployments: DEPLOYMENTS,
    rollbacks,
    now: NOW,
  });

function valid(rendered: { text: string; blocks?: unknown[] }): void {
  expect(checkBlockLimits(rendered.blocks)).toEqual([]);
  const problems: string[] = [];
  checkMrkdwn('text', rendered.text, problems);
  expect(problems).toEqual([]);
}

const actionIds = (blocks: unknown): string[] =>
  [...JSON.stringify(blocks).matchAll(/"action_id":"([^"]+)"/g)].map((m) => m[1]!);

describe('renderIncidentParent', () => {
  it('carries the card of the rollback declared in the incident, buttons and all', () => {
    const rendered = render([rollback(declaredView(), ['APPROVE', 'REJECT', 'CANCEL'])]);
    valid(rendered);
    expectGolden('incident-with-card', rendered);
    expect(actionIds(rendered.blocks)).toEqual(['rollback:approve', 'rollback:reject', 'rollback:cancel']);
    // Notifications read the incident first, then where its rollback stands.
    expect(rendered.text).toMatch(
      /^Incident: user-service \(production\), 1 alert\(s\) firing · .*Rollback of/,
    );
    // The incident's own blocks come first, its footer last.
    const blocks = rendered.blocks!;
    expect(JSON.stringify(blocks[0])).toContain('INCIDENT: user-service');
    expect(JSON.stringify(blocks.at(-1))).toContain('Incident `inc-7f3a2c`');
  });

  it('lists a second rollback of the incident on the same message: the newest in full, the earlier in a line', () => {
    const first = abortedView();
    const second = baseView({
      ...declaredView(),
      id: 'rb_02SECOND',
      toVersion: 'v1.3.9',
      declaredAt: iso(8 * MINUTE),
    });
    const rendered = render([rollback(first, []), rollback(second, ['APPROVE', 'REJECT', 'CANCEL'])]);
    valid(rendered);
    expectGolden('incident-two-rollbacks', rendered);
    const text = JSON.stringify(rendered.blocks);
    expect(text).toContain('Earlier rollbacks of this incident');
    expect(text).toContain(`\`${first.id}\``);
    // One card, so one set of buttons: the newest rollback's.
    expect(actionIds(rendered.blocks)).toEqual(['rollback:approve', 'rollback:reject', 'rollback:cancel']);
    expect(text.match(/"type":"header"/g)).toHaveLength(2);
  });

  it('draws the newest rollback still going in full even when an older one ended later', () => {
    const going = declaredView();
    const ended = baseView({ ...resolvedView(), id: 'rb_03ENDED' });
    const text = JSON.stringify(render([rollback(going, ['APPROVE']), rollback(ended, [])]).blocks);
    expect(text).toContain('rollback:approve');
    expect(text).toContain('`rb_03ENDED`');
  });

  it('lists a rollback that joined with a card of its own without drawing it', () => {
    const rendered = render([rollback(declaredView(), ['APPROVE'], false)]);
    valid(rendered);
    const text = JSON.stringify(rendered.blocks);
    expect(text).toContain('*Rollbacks*');
    expect(text).toContain('its own card and thread');
    expect(actionIds(rendered.blocks)).toEqual([]);
  });

  it('stays within 50 blocks and every text limit with everything at its largest', () => {
    const steps = Array.from({ length: 40 }, (_, i) => ({
      name: `Step ${i + 1} ${'x'.repeat(150)}`,
      uses: 'command',
      status: i < 12 ? ('succeeded' as const) : i === 12 ? ('failed' as const) : ('pending' as const),
      attempts: i <= 12 ? 1 : 0,
      startedAt: i <= 12 ? iso(i * MINUTE) : null,
      endedAt: i <= 12 ? iso(i * MINUTE + 30_000) : null,
      ...(i === 12 ? { error: 'e'.repeat(2_000) } : {}),
    }));
    const checks = Array.from({ length: 15 }, (_, i) => ({
      name: `Check ${i + 1}`,
      kind: 'auto' as const,
      status: 'pending' as const,
      at: null,
    }));
    const huge = baseView({
      ...stabilizingView(),
      state: 'executing',
      reason: 'r'.repeat(5_000),
      steps,
      checks,
      watches: [{ name: 'p99', status: 'breached', at: iso(MINUTE), detail: 'd'.repeat(400) }],
      afterSteps: [
        {
          name: 'Scale down',
          uses: 'command',
          status: 'pending',
          delayMs: 5 * MINUTE,
          dueAt: null,
          startedAt: null,
          endedAt: null,
        },
      ],
    });
    const earlier = Array.from({ length: 14 }, (_, i) =>
      rollback(baseView({ ...abortedView(), id: `rb_old${i}`, stateDetail: 's'.repeat(500) }), []),
    );
    const rendered = render([...earlier, rollback(huge, ['RETRY_STEP', 'SKIP_STEP', 'ABORT'])], {
      alerts: Array.from({ length: 30 }, (_, i) => alert(i, { summary: 's'.repeat(300) })),
      overflow: 12,
      startNote: 'n'.repeat(1_000),
    });
    valid(rendered);
    expect(rendered.blocks!.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    // The step that waits for a decision keeps its buttons.
    expect(actionIds(rendered.blocks)).toEqual(
      expect.arrayContaining(['rollback:retry-step', 'rollback:skip-step', 'rollback:abort']),
    );
    expect(JSON.stringify(rendered.blocks)).toMatch(/Earlier rollbacks of this incident.*… and \d+ more/);
  });

  it('keeps the card after the incident closes', () => {
    const rendered = render([rollback(resolvedView(), [])], {
      closedAt: T0 + 20 * MINUTE,
      alerts: [alert(1, { status: 'resolved', endsAt: T0 + 19 * MINUTE })],
    });
    valid(rendered);
    expect(rendered.text).toMatch(/^Resolved: user-service \(production\) · /);
    expect(JSON.stringify(rendered.blocks)).toContain('Rollback: user-service');
  });
});
