import { describe, expect, it } from 'vitest';
import type { RollbackPlan } from '../../../src/domain/plan.js';
import {
  DECLARE_CALLBACK_ID,
  DECLARE_FIELDS,
  parseDeclareSubmission,
  renderDeclareModal,
  type StateValues,
} from '../../../src/slack/blocks/declare-modal.js';
import {
  renderError,
  renderHelp,
  renderPlanPreview,
  renderRefusal,
  renderRollbackList,
} from '../../../src/slack/blocks/replies.js';
import { checkBlockLimits, checkViewLimits } from '../../support/block-limits.js';
import { standardStrategy } from '../../support/domain-fixtures.js';
import { expectGolden } from '../../support/golden.js';
import { LIMITATIONS, declaredView, drillView, failedStepView } from '../../support/view-fixtures.js';

function plan(service: string, overrides: Partial<RollbackPlan> = {}): RollbackPlan {
  return {
    name: `${service}-rollback`,
    service,
    channel: '#incidents',
    environments: ['production', 'staging'],
    criticality: 'high',
    rtoMs: 15 * 60_000,
    authority: 'default',
    defaultStrategy: 'blue-green',
    strategies: {
      'blue-green': standardStrategy({ name: 'blue-green' }),
      canary: standardStrategy({ name: 'canary' }),
    },
    triggers: [],
    limitations: LIMITATIONS,
    ...overrides,
  };
}
const PLANS = [
  plan('user-service', {
    owner: 'team-identity',
    contacts: [
      { name: 'Incident commander: Ana', slack: 'U0LEAD1', phone: '+33 6 12 34 56 78' },
      { name: 'Identity on-call <!here>', slack: 'S0ONCALL' },
    ],
    links: {
      runbook: 'https://wiki.example.com/runbooks/user-service',
      logs: 'CloudWatch log group /aws/ecs/user-service',
    },
  }),
  plan('payment-service', { environments: ['production'] }),
];

describe('replies', () => {
  it('help lists the grammar with examples', () => {
    const help = renderHelp();
    expect(help.response_type).toBe('ephemeral');
    expect(checkBlockLimits(help.blocks)).toEqual([]);
    const text = JSON.stringify(help);
    for (const word of [
      'list',
      'status',
      'history',
      'plan SERVICE',
      'cancel ID',
      'freeze on|off',
      'stats',
      'drill SERVICE',
      '--reason',
    ]) {
      expect(text).toContain(word);
    }
    expectGolden('help', help);
  });

  it('list, refusal, error and plan preview stay within the limits and escape', () => {
    const list = renderRollbackList([declaredView(), failedStepView(), drillView()]);
    expect(checkBlockLimits(list.blocks)).toEqual([]);
    expectGolden('list', list);
    expect(renderRollbackList([]).text).toBe('No open rollbacks.');
    const many = renderRollbackList(Array.from({ length: 120 }, () => declaredView()));
    expect(checkBlockLimits(many.blocks)).toEqual([]);

    const refusal = renderRefusal('Only a team-lead or above may approve at minute 17 <!channel>', 'ref-1');
    expect(checkBlockLimits(refusal.blocks)).toEqual([]);
    expect(JSON.stringify(refusal)).not.toContain('<!channel>');
    expectGolden('refusal', refusal);

    const error = renderError('Could not reach the store.', 'err_7f3a');
    expect(checkBlockLimits(error.blocks)).toEqual([]);
    expect(JSON.stringify(error)).toContain('err_7f3a');
    expect(JSON.stringify(error)).not.toMatch(/at .*\.ts:\d+/);

    const preview = renderPlanPreview(PLANS[0]!, 'blue-green', [
      {
        name: 'Freeze deployments',
        uses: 'http',
        params: { url: 'https://deploy.internal/freeze', token: '***' },
      },
      { name: 'Switch traffic', uses: 'command', params: { run: 'router switch blue && echo <done>' } },
    ]);
    expect(checkBlockLimits(preview.blocks)).toEqual([]);
    expectGolden('plan-preview', preview);
  });
});

describe('declare modal', () => {
  it('offers the plans as static selects within the modal limits', () => {
    const modal = renderDeclareModal(PLANS, { service: 'user-service', privateMetadata: 'C0INCIDENTS' });
    expect(modal.callback_id).toBe(DECLARE_CALLBACK_ID);
    expect(checkViewLimits(modal as unknown as Record<string, unknown>)).toEqual([]);
    expectGolden('declare-modal', modal);
    const huge = renderDeclareModal(
      Array.from({ length: 150 }, (_, i) => plan(`svc-${i}-${'x'.repeat(200)}`)),
    );
    expect(checkViewLimits(huge as unknown as Record<string, unknown>)).toEqual([]);
  });

  const values = (v: {
    service?: string;
    environment?: string;
    strategy?: string;
    to?: string;
    reason?: string;
  }) =>
    ({
      [DECLARE_FIELDS.service.block]: {
        [DECLARE_FIELDS.service.action]: { selected_option: v.service ? { value: v.service } : null },
      },
      [DECLARE_FIELDS.environment.block]: {
        [DECLARE_FIELDS.environment.action]: {
          selected_option: v.environment ? { value: v.environment } : null,
        },
      },
      [DECLARE_FIELDS.strategy.block]: {
        [DECLARE_FIELDS.strategy.action]: { selected_option: v.strategy ? { value: v.strategy } : null },
      },
      [DECLARE_FIELDS.toVersion.block]: { [DECLARE_FIELDS.toVersion.action]: { value: v.to ?? null } },
      [DECLARE_FIELDS.reason.block]: { [DECLARE_FIELDS.reason.action]: { value: v.reason ?? null } },
    }) satisfies StateValues;

  it('parses a good submission', () => {
    expect(
      parseDeclareSubmission(
        values({ service: 'user-service', environment: 'production', to: ' v1.4.1 ', reason: '5xx spike' }),
        PLANS,
      ),
    ).toEqual({
      ok: true,
      values: {
        service: 'user-service',
        environment: 'production',
        strategy: null,
        toVersion: 'v1.4.1',
        reason: '5xx spike',
      },
    });
  });

  it('returns field errors keyed by block_id', () => {
    const missing = parseDeclareSubmission(values({ to: 'v1 4' }));
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(Object.keys(missing.errors).sort()).toEqual(
        [
          DECLARE_FIELDS.service.block,
          DECLARE_FIELDS.environment.block,
          DECLARE_FIELDS.toVersion.block,
          DECLARE_FIELDS.reason.block,
        ].sort(),
      );
    }
    const combo = parseDeclareSubmission(
      values({ service: 'payment-service', environment: 'staging', strategy: 'rolling', reason: 'latency' }),
      PLANS,
    );
    expect(combo).toEqual({
      ok: false,
      errors: {
        [DECLARE_FIELDS.environment.block]: 'payment-service has no plan for staging: production.',
        [DECLARE_FIELDS.strategy.block]: 'payment-service has no strategy rolling: blue-green, canary.',
      },
    });
    expect(parseDeclareSubmission({}).ok).toBe(false);
  });

  it('refuses a target that is not a version, and invisible characters in the reason', () => {
    const good = { service: 'user-service', environment: 'production', reason: '5xx spike' };
    expect(parseDeclareSubmission(values({ ...good, to: 'v1/../../..' }), PLANS)).toEqual({
      ok: false,
      errors: {
        [DECLARE_FIELDS.toVersion.block]:
          "'v1/../../..' has '/': a version is letters, digits and . _ + - (at most 128, starting with a letter or digit).",
      },
    });
    const option = parseDeclareSubmission(values({ ...good, to: '--log-file=x' }), PLANS);
    expect(option.ok ? '' : option.errors[DECLARE_FIELDS.toVersion.block]).toMatch(
      /^'--log-file=x' starts with '-'/,
    );
    const bidi = parseDeclareSubmission(values({ ...good, reason: 'spike after \u202Edeploy' }), PLANS);
    expect(bidi.ok ? '' : bidi.errors[DECLARE_FIELDS.reason.block]).toBe(
      'The reason has \\u202E (a bidirectional formatting character); type it again without it.',
    );
    const escape = parseDeclareSubmission(values({ ...good, reason: 'spike \u001B[2J' }), PLANS);
    expect(escape.ok ? '' : escape.errors[DECLARE_FIELDS.reason.block]).toMatch(
      /\\u001B \(a control character\)/,
    );
    // A reason may run over lines and hold tabs.
    expect(parseDeclareSubmission(values({ ...good, reason: 'spike\n\tafter deploy' }), PLANS).ok).toBe(true);
  });
});
