import { describe, expect, it } from 'vitest';
import type { Notice } from '../../../src/slack/blocks/thread-messages.js';
import { renderNotice, renderStepOutput } from '../../../src/slack/blocks/thread-messages.js';
import { decodeButtonValue } from '../../../src/slack/blocks/kit.js';
import type { NotifyEvent } from '../../../src/domain/rollback-types.js';
import type { RoleSpec } from '../../../src/domain/plan.js';
import type { RolePage, TierPage } from '../../../src/slack/paging.js';
import { MINUTE, T0, USERS } from '../../support/domain-fixtures.js';
import { checkBlockLimits, checkMrkdwn } from '../../support/block-limits.js';
import { expectGolden } from '../../support/golden.js';
import {
  conditionSkippedView,
  afterFailedView,
  afterPendingView,
  declaredView,
  failedStepView,
  resolvedView,
  validatingView,
  watchingView,
} from '../../support/view-fixtures.js';

/** The rollback's policy as paging reads it: a group, a group and a user id, a user id only. */
const ROLES_OF: Record<string, RoleSpec> = {
  'on-call-engineer': { name: 'on-call-engineer', members: { usergroup: 'S0ONCALL', users: [] } },
  'team-lead': { name: 'team-lead', members: { usergroup: 'S0LEADS', users: [USERS.lead] } },
  'engineering-manager': { name: 'engineering-manager', members: { users: [USERS.manager] } },
};
const held = (role: string): RolePage => ({ role, paged: ROLES_OF[role]!, unheld: [] });
/** Everyone holds the tier's roles: each is paged itself. */
const pagingOf = (tier: { approver: string; notify?: string }): TierPage => ({
  approver: held(tier.approver),
  ...(tier.notify === undefined ? {} : { notify: held(tier.notify) }),
});
const tier0 = {
  index: 0,
  approver: 'on-call-engineer',
  notify: 'team-lead',
  since: T0,
  until: T0 + 15 * MINUTE,
};
const tier1 = {
  index: 1,
  approver: 'team-lead',
  notify: 'engineering-manager',
  since: T0 + 15 * MINUTE,
  until: T0 + 30 * MINUTE,
};
const tally = { count: 1, required: 2 };

const NOTICES: Array<[NotifyEvent, Notice, ReturnType<typeof declaredView>, string[]?]> = [
  ['declared', { event: 'declared', autoStartAt: null, by: USERS.declarer }, declaredView()],
  [
    'approval-requested',
    {
      event: 'approval-requested',
      tier: tier0,
      approvals: { count: 0, required: 2 },
      expiresAt: T0 + 62 * MINUTE,
    },
    declaredView(),
  ],
  [
    'approved',
    { event: 'approved', approver: USERS.oncall, role: 'on-call-engineer', approvals: tally },
    declaredView(),
  ],
  ['escalated', { event: 'escalated', tier: tier1 }, declaredView()],
  ['targets-changed', { event: 'targets-changed', approvalsVoided: 1 }, declaredView()],
  [
    'reminder',
    { event: 'reminder', tier: tier0, approvals: tally, expiresAt: T0 + 62 * MINUTE },
    declaredView(),
  ],
  ['authorized', { event: 'authorized', via: 'approval' }, failedStepView()],
  ['step-started', { event: 'step-started', stepIndex: 1, attempt: 2 }, failedStepView()],
  [
    'step-succeeded',
    { event: 'step-succeeded', stepIndex: 0, attempt: 1 },
    failedStepView(),
    ['PUT /freeze', 'HTTP 200 {"frozen":true}'],
  ],
  [
    'step-skipped',
    {
      event: 'step-skipped',
      stepIndex: 1,
      condition: '{{ steps.migrate-check.output.applied }}',
      why: 'steps.migrate-check.output.applied was false',
    },
    conditionSkippedView(),
  ],
  [
    'step-failed',
    {
      event: 'step-failed',
      stepIndex: 1,
      attempt: 2,
      error: 'exit code 1: upstream "blue" has 0 healthy hosts',
      next: 'ask',
      choices: ['retry', 'skip', 'abort'],
    },
    failedStepView(),
  ],
  [
    'step-interrupted',
    { event: 'step-interrupted', stepIndex: 1, attempt: 1, choices: ['retry', 'skip', 'abort'] },
    failedStepView(),
  ],
  ['manual-check-requested', { event: 'manual-check-requested', checkIndex: 1 }, validatingView()],
  [
    'validation-passed',
    { event: 'validation-passed', accepted: false, stabilizeUntil: T0 + 14 * MINUTE },
    validatingView(),
  ],
  [
    'validation-failed',
    {
      event: 'validation-failed',
      checkIndex: 0,
      status: 'failed',
      detail: 'HTTP 503 from /health',
      choices: ['revalidate', 'accept', 'abort'],
    },
    validatingView(),
  ],
  [
    'stability-lost',
    {
      event: 'stability-lost',
      checkIndex: null,
      alert: 'CheckoutHighErrorRate',
      status: 'failed',
      detail: '5xx ratio 7.2% over 5m',
      rounds: 3,
      failures: 0,
      failureLimit: 0,
      choices: ['revalidate', 'accept', 'abort'],
    },
    validatingView(),
  ],
  [
    'watch-breached',
    {
      event: 'watch-breached',
      watchIndex: 0,
      detail: '5xx ratio 7.4% > 5%',
      stepIndex: 0,
      choices: ['continue', 'abort'],
    },
    watchingView(),
  ],
  ['status-update', { event: 'status-update', at: T0 + 8 * MINUTE }, failedStepView()],
  [
    'resolved',
    { event: 'resolved', reason: 'all checks passed; stable for 5m', at: T0 + 14 * MINUTE },
    resolvedView(),
  ],
  ['failed', { event: 'failed', reason: 'step 2 failed and the plan says abort' }, failedStepView()],
  [
    'after-steps-scheduled',
    { event: 'after-steps-scheduled', dueAt: [T0 + 19 * MINUTE, T0 + 24 * MINUTE] },
    afterPendingView(),
  ],
  ['after-step-started', { event: 'after-step-started', afterIndex: 0 }, afterFailedView()],
  ['after-step-succeeded', { event: 'after-step-succeeded', afterIndex: 0 }, afterFailedView()],
  [
    'after-step-failed',
    {
      event: 'after-step-failed',
      afterIndex: 1,
      error: 'HTTP 409: target group tg-green is in use',
      skipped: 1,
    },
    afterFailedView(),
  ],
  [
    'after-step-interrupted',
    { event: 'after-step-interrupted', afterIndex: 0, skipped: 1 },
    afterPendingView(),
  ],
  [
    'after-steps-cancelled',
    { event: 'after-steps-cancelled', supersededBy: 'rb_01JDX9ZZ', interrupted: 0, skipped: 1 },
    afterPendingView(),
  ],
  ['aborted', { event: 'aborted', reason: 'blue is unhealthy too', by: USERS.lead }, failedStepView()],
  ['cancelled', { event: 'cancelled', reason: 'false alarm', by: USERS.declarer }, declaredView()],
  ['rejected', { event: 'rejected', reason: 'fix forward instead', by: USERS.lead }, declaredView()],
  ['expired', { event: 'expired', reason: 'no approval within 60m' }, declaredView()],
];

function valid(message: { text: string; blocks?: unknown[] }): void {
  expect(checkBlockLimits(message.blocks ?? [])).toEqual([]);
  const problems: string[] = [];
  checkMrkdwn('text', message.text, problems);
  expect(problems).toEqual([]);
}

describe('renderNotice', () => {
  it.each(NOTICES)('%s matches its golden', (name, notice, view, output) => {
    const paging = 'tier' in notice ? { paging: pagingOf(notice.tier) } : {};
    const message = renderNotice(notice, view, { ...paging, ...(output ? { output } : {}) });
    valid(message);
    expectGolden(`notice-${name}`, message);
  });

  it('covers every notify event of the union', () => {
    const all: Record<NotifyEvent, true> = {
      declared: true,
      'approval-requested': true,
      approved: true,
      escalated: true,
      reminder: true,
      'targets-changed': true,
      authorized: true,
      'step-started': true,
      'step-succeeded': true,
      'step-failed': true,
      'step-skipped': true,
      'step-interrupted': true,
      'validation-passed': true,
      'validation-failed': true,
      'stability-lost': true,
      'watch-breached': true,
      'manual-check-requested': true,
      'status-update': true,
      'after-steps-scheduled': true,
      'after-step-started': true,
      'after-step-succeeded': true,
      'after-step-failed': true,
      'after-step-interrupted': true,
      'after-steps-cancelled': true,
      resolved: true,
      failed: true,
      aborted: true,
      cancelled: true,
      rejected: true,
      expired: true,
    };
    expect(NOTICES.map(([name]) => name).sort()).toEqual(Object.keys(all).sort());
  });

  it('says the ETA passed and pages the next tier (the rto escalation)', () => {
    const message = renderNotice(
      { event: 'escalated', tier: tier1, rto: { eta: T0 + 17 * MINUTE, rtoMs: 15 * MINUTE } },
      failedStepView(),
      { paging: pagingOf(tier1) },
    );
    expect(checkBlockLimits(message.blocks ?? [])).toEqual([]);
    expect(message.text).toMatch(/^⏰ The ETA has passed: the rollback of \*user-service\* \(production\)/);
    expect(message.text).toContain('(RTO 15m from the declaration)');
    // Paged from the rollback's own policy, as every paging notice is.
    expect(message.text).toContain(
      '📣 Paging tier 2: <!subteam^S0LEADS> <@U0LEAD1> (team-lead) or above may approve',
    );
    expect(message.text).toContain('<@U0EM1> (engineering-manager)');
    expectGolden('notice-rto-passed', message);
  });

  it("mentions the tier roles' user groups and user ids, and names them when nobody resolved them", () => {
    const escalated = renderNotice({ event: 'escalated', tier: tier1 }, declaredView(), {
      paging: pagingOf(tier1),
    });
    expect(escalated.text).toContain('<!subteam^S0LEADS> <@U0LEAD1> (team-lead) or above may approve');
    expect(escalated.text).toContain('FYI <@U0EM1> (engineering-manager)');
    expect(renderNotice({ event: 'escalated', tier: tier1 }, declaredView()).text).toContain('*team-lead*');
  });

  it('says when nobody holds the tier role, and pages the next role up in every paging notice', () => {
    const paging: TierPage = {
      approver: {
        role: 'on-call-engineer',
        paged: ROLES_OF['engineering-manager']!,
        unheld: ['on-call-engineer', 'team-lead'],
      },
      notify: { role: 'team-lead', paged: null, unheld: ['team-lead'] },
    };
    const requested = renderNotice(
      {
        event: 'approval-requested',
        tier: tier0,
        approvals: { count: 0, required: 1 },
        expiresAt: T0 + 62 * MINUTE,
      },
      declaredView(),
      { paging },
    );
    valid(requested);
    expectGolden('notice-approval-requested-unheld', requested);
    const reminder = renderNotice(
      { event: 'reminder', tier: tier0, approvals: { count: 0, required: 1 }, expiresAt: T0 + 62 * MINUTE },
      declaredView(),
      { paging },
    );
    const escalated = renderNotice({ event: 'escalated', tier: tier0 }, declaredView(), { paging });
    for (const { text } of [requested, reminder, escalated]) {
      expect(text).toContain('*on-call-engineer* or above may approve');
      expect(text).toContain(
        '⚠️ Nobody holds *on-call-engineer* or *team-lead*: paging <@U0EM1> (engineering-manager).',
      );
      expect(text).not.toContain('subteam');
    }
    expect(requested.text).toContain('FYI *team-lead* (nobody holds it)');

    const nobody = renderNotice({ event: 'escalated', tier: tier0 }, declaredView(), {
      paging: {
        approver: { role: 'on-call-engineer', paged: null, unheld: ['on-call-engineer', 'team-lead'] },
      },
    });
    expect(nobody.text).toContain(
      '⚠️ Nobody holds *on-call-engineer* or any role above it: nobody can approve until someone is added to one of them.',
    );
  });

  it('step buttons in the thread carry the step index', () => {
    const [, notice, view] = NOTICES.find(([n]) => n === 'step-failed')!;
    const blocks = renderNotice(notice, view).blocks as Array<{
      type: string;
      elements?: Array<{ action_id: string; value: string }>;
    }>;
    const buttons = blocks.flatMap((b) => b.elements ?? []);
    expect(buttons.map((b) => [b.action_id, decodeButtonValue(b.value)])).toEqual([
      ['rollback:retry-step', { rollbackId: 'rb_01JDX4Q2', step: 1 }],
      ['rollback:skip-step', { rollbackId: 'rb_01JDX4Q2', step: 1 }],
      ['rollback:abort', { rollbackId: 'rb_01JDX4Q2' }],
    ]);
  });

  it('escapes errors and reasons', () => {
    const message = renderNotice(
      {
        event: 'step-failed',
        stepIndex: 1,
        attempt: 1,
        error: '<!channel> boom & <@U1>',
        next: 'abort',
        choices: [],
      },
      failedStepView(),
    );
    valid(message);
    expect(JSON.stringify(message)).not.toContain('<!channel>');
    expect(message.text).toContain('&lt;!channel&gt; boom &amp; &lt;@U1&gt;');
  });
});

describe('renderStepOutput', () => {
  it('is a code block that keeps the tail of a long output', () => {
    const lines = Array.from({ length: 2_000 }, (_, i) => `line ${i} <tag> & more`);
    const message = renderStepOutput('Switch traffic', lines);
    valid(message);
    const text = (message.blocks![0] as { text: { text: string } }).text.text;
    expect(text.length).toBeLessThanOrEqual(3_000);
    expect(text).toContain('line 1999 &lt;tag&gt; &amp; more\n```');
    expect(text).not.toContain('line 0 ');
    expect(text).toMatch(/```\n…/);
    expectGolden('step-output', renderStepOutput('Switch traffic', ['$ router switch blue', 'ok: 12 hosts']));
  });
});
