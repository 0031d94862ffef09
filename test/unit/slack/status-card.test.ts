import { describe, expect, it } from 'vitest';
import type { RollbackView } from '../../../src/app/rollback-view.js';
import { decodeButtonValue, encodeButtonValue } from '../../../src/slack/blocks/kit.js';
import { renderStatusCard, type StatusCardInput } from '../../../src/slack/blocks/status-card.js';
import { MINUTE, T0 } from '../../support/domain-fixtures.js';
import { expectGolden } from '../../support/golden.js';
import { checkBlockLimits, checkMrkdwn } from '../../support/block-limits.js';
import {
  LIMITATIONS,
  abortedView,
  afterFailedView,
  afterPendingView,
  baseView,
  conditionSkippedView,
  declaredView,
  drillView,
  failedStepView,
  interruptedView,
  iso,
  pendingView,
  resolvedView,
  stabilizingView,
  watchingView,
  validatingView,
  withOwnership,
} from '../../support/view-fixtures.js';

const NOW = T0 + 10 * MINUTE;

const card = (view: RollbackView, acceptedEvents: string[], extra: Partial<StatusCardInput> = {}) =>
  renderStatusCard({ view, limitations: LIMITATIONS, acceptedEvents, now: NOW, ...extra });

interface Button {
  action_id: string;
  value: string;
  confirm?: { title: { text: string }; text: { text: string } };
}
/** Every button of a rendered card: in actions blocks and as section accessories. */
function buttonsOf(blocks: unknown[]): Button[] {
  const out: Button[] = [];
  for (const b of blocks as Array<{ type: string; elements?: Button[]; accessory?: Button }>) {
    if (b.type === 'actions') out.push(...(b.elements ?? []));
    if (b.accessory) out.push(b.accessory);
  }
  return out;
}

function valid(rendered: { text: string; blocks: unknown[] }): void {
  expect(checkBlockLimits(rendered.blocks)).toEqual([]);
  const problems: string[] = [];
  checkMrkdwn('text', rendered.text, problems);
  expect(problems).toEqual([]);
}

const CASES: Array<[string, () => RollbackView, string[], Partial<StatusCardInput>?]> = [
  ['card-declared', declaredView, ['APPROVE', 'REJECT', 'CANCEL'], { approvalsRequired: 2 }],
  [
    'card-declared-unheld',
    declaredView,
    ['APPROVE', 'REJECT', 'CANCEL'],
    {
      approvalsRequired: 1,
      paging: {
        approver: {
          role: 'on-call-engineer',
          paged: { name: 'engineering-manager', members: { users: ['U0EM1'] } },
          unheld: ['on-call-engineer', 'team-lead'],
        },
        notify: { role: 'team-lead', paged: null, unheld: ['team-lead'] },
      },
    },
  ],
  ['card-pending', pendingView, ['CANCEL', 'START_NOW']],
  ['card-failed-step', failedStepView, ['RETRY_STEP', 'SKIP_STEP', 'ABORT']],
  ['card-interrupted', interruptedView, ['RETRY_STEP', 'SKIP_STEP', 'ABORT']],
  ['card-validating', validatingView, ['MANUAL_DONE', 'ABORT']],
  ['card-stabilizing', stabilizingView, ['ABORT']],
  ['card-watch-breached', watchingView, ['CONTINUE', 'ABORT']],
  ['card-resolved', resolvedView, []],
  ['card-after-pending', afterPendingView, []],
  ['card-after-failed', afterFailedView, []],
  ['card-aborted', abortedView, []],
  ['card-drill', drillView, ['ABORT']],
  ['card-condition-skipped', conditionSkippedView, ['ABORT']],
  // Owner and ETA (due minute 17) in the fields, contacts and links under the limitations.
  ['card-ownership', () => withOwnership(declaredView()), ['APPROVE', 'REJECT', 'CANCEL']],
  [
    'card-eta-passed',
    () => withOwnership(failedStepView()),
    ['RETRY_STEP', 'SKIP_STEP', 'ABORT'],
    { now: T0 + 20 * MINUTE },
  ],
];

describe('renderStatusCard: RTO and ownership', () => {
  const fieldsOf = (view: RollbackView, now = NOW): string[] => {
    const section = card(view, [], { now }).blocks[1] as { fields?: Array<{ text: string }> };
    return (section.fields ?? []).map((field) => field.text);
  };

  it('shows the owner and the ETA, then that it passed, then whether it was met', () => {
    const view = withOwnership(declaredView());
    expect(fieldsOf(view)).toContain('*Owner*\nteam-identity');
    expect(fieldsOf(view).find((f) => f.startsWith('*ETA*'))).toMatch(
      /^\*ETA\*\n<!date\^\d+\^.*\(RTO 15m\), in 7m$/,
    );
    expect(fieldsOf(view, T0 + 20 * MINUTE).find((f) => f.startsWith('*ETA*'))).toMatch(
      /^\*ETA\*\n⏰ \*passed\* 3m ago: /,
    );
    const resolved = withOwnership(resolvedView());
    expect(fieldsOf(resolved).find((f) => f.startsWith('*ETA*'))).toMatch(/ · met$/);
  });

  it('a plan without an RTO shows no ETA, and one without contacts no block for them', () => {
    const rendered = card(declaredView(), []);
    expect(JSON.stringify(rendered.blocks)).not.toMatch(/ETA|Owner|Contacts|Runbook/);
  });

  it('lists contacts and links in a context block; groups are not paged from the card', () => {
    const text = JSON.stringify(card(withOwnership(declaredView()), []).blocks);
    expect(text).toContain('📞 *Contacts:* *Incident commander: Ana* <@U0LEAD1> ☎️ +33 6 12 34 56 78');
    expect(text).toContain('*Identity on-call* group `S0ONCALL`');
    expect(text).not.toContain('subteam');
    expect(text).toContain('<https://wiki.example.com/runbooks/user-service|Runbook>');
    expect(text).toContain('Logs: `CloudWatch log group /aws/ecs/user-service`');
  });
});

describe('renderStatusCard', () => {
  it.each(CASES)('%s matches its golden and the limits', (name, view, accepted, extra) => {
    const rendered = card(view(), accepted, extra);
    valid(rendered);
    expectGolden(name, rendered);
  });

  it('shows a step its when skipped with what the condition found, and a pending one with its when', () => {
    const text = JSON.stringify(card(conditionSkippedView(), ['ABORT']).blocks);
    expect(text).toContain(
      '⏭️ *2. Undo the last migration* · `command` · skipped: steps.migrate-check.output.applied was false',
    );
    expect(text).toContain('❔ _only when_ `{{ !steps.migrate-check.output.applied }}`');
  });

  it('shows only the buttons of accepted events, with the exact action ids', () => {
    const ids = (accepted: string[], view = declaredView()) =>
      buttonsOf(card(view, accepted).blocks).map((b) => b.action_id);
    expect(ids(['APPROVE', 'REJECT', 'CANCEL'])).toEqual([
      'rollback:approve',
      'rollback:reject',
      'rollback:cancel',
    ]);
    expect(ids([])).toEqual([]);
    expect(ids(['RETRY_STEP', 'SKIP_STEP', 'ABORT'], failedStepView())).toEqual([
      'rollback:retry-step',
      'rollback:skip-step',
      'rollback:abort',
    ]);
    expect(ids(['MANUAL_DONE', 'ABORT'], validatingView())).toEqual([
      'rollback:check-done',
      'rollback:abort',
    ]);
    expect(ids(['ACCEPT', 'RETRY_STEP', 'ABORT'], { ...validatingView(), state: 'validating' })).toEqual([
      'rollback:retry-step',
      'rollback:accept',
      'rollback:abort',
    ]);
    expect(ids(['START_NOW', 'CANCEL'], pendingView())).toEqual(['rollback:start-now', 'rollback:cancel']);
    // CONTINUE is taken while any step runs; the button is there only while a breach waits for it.
    expect(ids(['CONTINUE', 'CANCEL', 'ABORT'], baseView())).toEqual(['rollback:cancel', 'rollback:abort']);
    expect(ids(['CONTINUE', 'ABORT'], watchingView())).toEqual(['rollback:continue', 'rollback:abort']);
  });

  it('asks before Reject, Abort, Skip, Accept and Approve in production, saying what happens next', () => {
    const confirmOf = (view: RollbackView, accepted: string[], actionId: string, extra = {}) =>
      buttonsOf(card(view, accepted, extra).blocks).find((b) => b.action_id === actionId)?.confirm;
    const declared = declaredView();
    expect(confirmOf(declared, ['REJECT'], 'rollback:reject')?.text.text).toMatch(
      /^Rejecting stops this rollback; nothing has run\. user-service stays on /,
    );
    expect(confirmOf(failedStepView(), ['ABORT'], 'rollback:abort')?.text.text).toMatch(
      /^Aborting stops it here: no further step runs\. The 1 step already done is NOT undone/,
    );
    expect(confirmOf(failedStepView(), ['SKIP_STEP'], 'rollback:skip-step')?.text.text).toMatch(
      /^Step 2 \(".+"\) is marked skipped and not tried again \(whatever it did so far stays\); (step 3 \(".+"\) runs next|validation comes next)\.$/,
    );
    expect(
      confirmOf({ ...validatingView(), state: 'validating' }, ['ACCEPT'], 'rollback:accept')?.text.text,
    ).toMatch(/^Accepting sets the failed check aside: user-service counts as rolled back/);
    // Approve in production: whether this approval starts the steps, then what they change. The
    // declared view has one approval already.
    expect(confirmOf(declared, ['APPROVE'], 'rollback:approve', { approvalsRequired: 2 })?.text.text).toMatch(
      /^Your approval completes it: the \d+ steps? starts? at once\.\n/,
    );
    expect(confirmOf(declared, ['APPROVE'], 'rollback:approve', { approvalsRequired: 3 })?.text.text).toMatch(
      /^This is approval 2 of 3: the \d+ steps? starts? once one more approver approves\.\n/,
    );
    expect(
      confirmOf({ ...declared, environment: 'staging' }, ['APPROVE'], 'rollback:approve'),
    ).toBeUndefined();
  });

  it('button values decode back to the rollback, step and check', () => {
    const failed = buttonsOf(card(failedStepView(), ['RETRY_STEP', 'SKIP_STEP', 'ABORT']).blocks);
    expect(failed.map((b) => decodeButtonValue(b.value))).toEqual([
      { rollbackId: 'rb_01JDX4Q2', step: 1 },
      { rollbackId: 'rb_01JDX4Q2', step: 1 },
      { rollbackId: 'rb_01JDX4Q2' },
    ]);
    const [done] = buttonsOf(card(validatingView(), ['MANUAL_DONE']).blocks);
    expect(done!.value).toBe('{"r":"rb_01JDX4Q2","c":1}');
    expect(decodeButtonValue(done!.value)).toEqual({ rollbackId: 'rb_01JDX4Q2', check: 1 });
  });

  it('escapes user text: a reason cannot ping the channel or mention a user', () => {
    const rendered = card(
      baseView({
        reason: 'ping <!channel> and <@U1> & <https://evil.example|click>',
        stateDetail: 'declared <!here>',
      }),
      [],
    );
    valid(rendered);
    const json = JSON.stringify(rendered);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U1>');
    expect(json).not.toContain('<!here>');
    expect(json).toContain('&lt;!channel&gt; and &lt;@U1&gt; &amp; &lt;https://evil.example|click&gt;');
  });

  it('stays within 50 blocks and every limit with 200 steps, 30 checks and 5,000-character texts', () => {
    const long = '⚠️ <@U1> & 🧨 '.repeat(400).slice(0, 5_000);
    const steps = Array.from({ length: 200 }, (_, i) => ({
      name: `Step ${i} ${long}`,
      uses: 'command',
      status: i < 120 ? ('succeeded' as const) : i === 120 ? ('failed' as const) : ('pending' as const),
      attempts: i <= 120 ? 1 : 0,
      startedAt: i <= 120 ? iso(i * 1000) : null,
      endedAt: i <= 120 ? iso(i * 1000 + 500) : null,
      ...(i === 120 ? { error: long } : {}),
    }));
    const checks = Array.from({ length: 30 }, (_, i) => ({
      name: `Check ${i} ${long}`,
      kind: i % 2 === 0 ? ('auto' as const) : ('manual' as const),
      status: 'pending' as const,
      at: null,
      detail: long,
    }));
    const approvals = Array.from({ length: 12 }, (_, i) => ({
      user: `U0APPROVER${i}`,
      role: long,
      at: iso(i * MINUTE),
      tier: 0,
      minute: i,
    }));
    const view = baseView({
      service: long,
      environment: long,
      strategy: long,
      toVersion: long,
      fromVersion: long,
      reason: long,
      stateDetail: long,
      steps,
      checks,
      approvals,
      approver: { role: long, notify: long, until: iso(15 * MINUTE) },
      outcome: { code: 'failed', reason: long, by: long, at: iso(20 * MINUTE) },
    });
    const accepted = [
      'APPROVE',
      'REJECT',
      'CANCEL',
      'START_NOW',
      'RETRY_STEP',
      'SKIP_STEP',
      'ABORT',
      'MANUAL_DONE',
      'ACCEPT',
    ];
    for (const state of ['executing', 'validating', 'declared'] as const) {
      const rendered = card({ ...view, state }, accepted, { limitations: Array(50).fill(long) as string[] });
      valid(rendered);
      expect(rendered.blocks.length).toBeLessThanOrEqual(50);
      if (state === 'executing') {
        const text = JSON.stringify(rendered.blocks);
        expect(text).toContain('more steps');
        expect(text).toContain('*121. Step 120'); // the failed step stays in view
        expect(buttonsOf(rendered.blocks).map((b) => decodeButtonValue(b.value)?.step)).toContain(120);
      }
    }
  });
});

describe('button values', () => {
  it('round-trip', () => {
    for (const v of [
      { rollbackId: 'rb_1' },
      { rollbackId: 'rb_1', step: 0 },
      { rollbackId: 'rb_"x', check: 3 },
    ]) {
      expect(decodeButtonValue(encodeButtonValue(v))).toEqual(v);
    }
    expect(encodeButtonValue({ rollbackId: 'rb_1', step: 2 })).toBe('{"r":"rb_1","s":2}');
  });

  it('decode refuses garbage', () => {
    for (const raw of [
      undefined,
      42,
      '',
      'nope',
      '{}',
      '{"r":""}',
      '{"r":"x","s":-1}',
      '{"r":"x","s":1.5}',
      '{"r":"x","z":1}',
      '[1]',
      'null',
    ]) {
      expect(decodeButtonValue(raw)).toBeNull();
    }
  });
});
