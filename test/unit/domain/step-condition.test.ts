/**
 * Conditional steps (`when`): the grammar, what counts as true, and the machine skipping a step
 * whose condition is false when execution reaches it (never when the rollback is declared).
 */
import { describe, expect, it } from 'vitest';
import type { StepSpec } from '../../../src/domain/plan.js';
import { evaluateCondition, isTruthy, parseCondition } from '../../../src/domain/step-condition.js';
import { templateVarsFor } from '../../../src/domain/template-vars.js';
import { MINUTE, at, rollbackInput, standardStrategy, step } from '../../support/domain-fixtures.js';
import { RollbackDriver, ev, kinds, notices } from '../../support/rollback-driver.js';

const when = (text: string): NonNullable<StepSpec['when']> => {
  const parsed = parseCondition(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.condition;
};

const conditional = (name: string, text: string): StepSpec => ({ ...step(name), when: when(text) });

const APPLIED = '{{ steps.check.output.applied }}';

/** Check (id `check`) -> Migrate down (when APPLIED) -> Notify, approved and authorised. */
function authorized(steps: StepSpec[], overrides: Parameters<typeof rollbackInput>[0] = {}) {
  const run = new RollbackDriver(rollbackInput({ strategy: standardStrategy({ steps }), ...overrides }));
  const effects = run.send(ev.approve(at(MINUTE)));
  return { run, effects };
}

const t = (seconds: number) => at(2 * MINUTE + seconds * 1000);

/** Runs step `index` to success with `output`; returns the effects of its success. */
function succeed(run: RollbackDriver, index: number, output?: Record<string, unknown>, s = index * 10) {
  run.send(ev.started(t(s + 1), index));
  return run.send(ev.succeeded(t(s + 2), index, output));
}

const threeSteps = (text = APPLIED) => [step('Check'), conditional('Migrate down', text), step('Notify')];

describe('the when grammar', () => {
  it.each([
    ['{{ steps.check.output.applied }}', 'steps.check.output.applied', false],
    ['{{steps.check.output.applied}}', 'steps.check.output.applied', false],
    ['{{ !steps.check.output.applied }}', 'steps.check.output.applied', true],
    ['  {{ ! fromVersion }} ', 'fromVersion', true],
    ['{{ rollback.reason }}', 'rollback.reason', false],
  ])('reads %j', (text, ref, negate) => {
    expect(parseCondition(text)).toEqual({ ok: true, condition: { ref, negate, text: text.trim() } });
  });

  it.each([
    ['steps.check.output.applied', /needs braces: "\{\{ steps\.check\.output\.applied \}\}"/],
    ['!steps.check.output.applied', /needs braces: "\{\{ !steps\.check\.output\.applied \}\}"/],
    ['!{{ steps.check.output.applied }}', /put the ! inside the braces: "\{\{ !steps/],
    ['{{ a }} and {{ b }}', /holds more than one reference/],
    ['{{ steps.check.output.count > 0 }}', /comparisons and expressions are not supported/],
    ['{{ }}', /"{{ }}" is empty/],
    ['', /is empty/],
    ['yes', /needs braces/],
    ['applied: {{ steps.check.output.applied }}', /is not a reference: write exactly one/],
  ])('refuses %j with a plain message', (text, message) => {
    const parsed = parseCondition(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('truthiness', () => {
  it.each([true, 'true', 'TRUE', 'yes', 1, -2, 0.5, 'applied', 'off', [], {}])('%j is true', (value) => {
    expect(isTruthy(value)).toBe(true);
  });

  it.each([false, 'false', 'False', ' no ', 'NO', '0', 0, '', '  ', null, undefined])(
    '%j is false',
    (value) => {
      expect(isTruthy(value)).toBe(false);
    },
  );

  it('reads step outputs and template variables, and says what it found', () => {
    const vars = templateVarsFor({
      id: 'rb-1',
      reason: 'r',
      service: 'orders',
      environment: 'production',
      fromVersion: null,
      toVersion: 'v1',
      strategy: { name: 's', steps: [{ name: 'Check' }] },
      incidentStartedAt: 0,
      declaredBy: 'U1',
      steps: [{ output: { applied: 'no', count: 3 } }],
    });
    expect(evaluateCondition(when('{{ steps.check.output.applied }}'), vars)).toEqual({
      holds: false,
      why: 'steps.check.output.applied was "no"',
    });
    expect(evaluateCondition(when('{{ steps.check.output.count }}'), vars).holds).toBe(true);
    expect(evaluateCondition(when('{{ fromVersion }}'), vars)).toEqual({
      holds: false,
      why: 'fromVersion had no value',
    });
    expect(evaluateCondition(when('{{ !steps.check.output.count }}'), vars)).toEqual({
      holds: false,
      why: 'steps.check.output.count was 3, and the step runs only when it is not',
    });
    expect(evaluateCondition(when('{{ steps.check.output.constructor }}'), vars).holds).toBe(false);
  });
});

describe('a step with when, as execution reaches it', () => {
  it('runs the step when the condition is true', () => {
    const { run } = authorized(threeSteps());
    const effects = succeed(run, 0, { applied: true });
    expect(kinds(effects)).toEqual(['notify:step-succeeded', 'runStep']);
    expect(effects[1]).toEqual({ kind: 'runStep', stepIndex: 1, attempt: 1 });
    expect(run.path).toBe('executing.queued');
    expect(run.ctx.steps[1]).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('skips it when false: no runStep for it, a step-skipped notice, the next step runs', () => {
    const { run } = authorized(threeSteps());
    const effects = succeed(run, 0, { applied: false });
    expect(kinds(effects)).toEqual(['notify:step-succeeded', 'notify:step-skipped', 'runStep']);
    expect(notices(effects)[1]).toEqual({
      kind: 'notify',
      event: 'step-skipped',
      stepIndex: 1,
      condition: APPLIED,
      why: 'steps.check.output.applied was false',
      at: t(2),
      by: 'system',
    });
    expect(effects[2]).toEqual({ kind: 'runStep', stepIndex: 2, attempt: 1 });
    expect(run.ctx.steps[1]).toEqual({
      name: 'Migrate down',
      uses: 'http',
      status: 'skipped',
      attempts: 0,
      endedAt: t(2),
      skippedBy: 'condition',
      skipReason: 'steps.check.output.applied was false',
    });
    expect(run.ctx.currentStep).toBe(2);
    expect(run.path).toBe('executing.queued');
    // The skipped step never runs: a late report for it is stale.
    expect(run.refuse(ev.started(t(3), 1)).code).toBe('stale');
    succeed(run, 2, undefined, 20);
    expect(run.path).toBe('validating.checking');
  });

  it('treats a missing output value as false', () => {
    const { run } = authorized(threeSteps());
    succeed(run, 0, { other: 'value' });
    expect(run.ctx.steps[1]).toMatchObject({
      status: 'skipped',
      skipReason: 'steps.check.output.applied had no value',
    });
  });

  it('treats the output of a step that was skipped as missing', () => {
    const { run } = authorized([
      step('Check'),
      conditional('Migrate down', APPLIED),
      conditional('Verify', '{{ steps.migrate-down.output.ok }}'),
      step('Notify'),
    ]);
    const effects = succeed(run, 0, { applied: 'no' });
    expect(kinds(effects)).toEqual([
      'notify:step-succeeded',
      'notify:step-skipped',
      'notify:step-skipped',
      'runStep',
    ]);
    expect(run.ctx.steps.map((s) => s.status)).toEqual(['succeeded', 'skipped', 'skipped', 'pending']);
  });

  it('negated: runs when the value is false, skips when it is true', () => {
    const negated = `{{ !steps.check.output.applied }}`;
    const yes = authorized(threeSteps(negated)).run;
    succeed(yes, 0, { applied: 'yes' });
    expect(yes.ctx.steps[1]).toMatchObject({
      status: 'skipped',
      skipReason: 'steps.check.output.applied was "yes", and the step runs only when it is not',
    });
    const no = authorized(threeSteps(negated)).run;
    expect(kinds(succeed(no, 0, { applied: false }))).toEqual(['notify:step-succeeded', 'runStep']);
    expect(no.ctx.steps[1]).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('a skipped last step goes on to validation', () => {
    const { run } = authorized([step('Check'), conditional('Migrate down', APPLIED)]);
    const effects = succeed(run, 0, { applied: 0 });
    expect(run.path).toBe('validating.checking');
    expect(kinds(effects)).toEqual([
      'notify:step-succeeded',
      'notify:step-skipped',
      'runCheck',
      'notify:manual-check-requested',
    ]);
    expect(run.ctx.currentStep).toBe(2);
  });

  it('a skipped first step: the next one runs straight after the authorisation', () => {
    const { run, effects } = authorized(
      [conditional('Only from a known version', '{{ fromVersion }}'), step('B')],
      {
        fromVersion: null,
      },
    );
    expect(kinds(effects)).toEqual(['notify:authorized', 'freeze', 'notify:step-skipped', 'runStep']);
    expect(effects.at(-1)).toEqual({ kind: 'runStep', stepIndex: 1, attempt: 1 });
    expect(run.path).toBe('authorized');
    expect(run.ctx.currentStep).toBe(1);
    run.send(ev.started(t(1), 1));
    expect(run.path).toBe('executing.running');
  });

  it('every step skipped: straight from the authorisation to validation', () => {
    const { run, effects } = authorized([conditional('A', '{{ fromVersion }}')], { fromVersion: null });
    expect(run.path).toBe('validating.checking');
    expect(kinds(effects)).toEqual([
      'notify:authorized',
      'freeze',
      'notify:step-skipped',
      'runCheck',
      'notify:manual-check-requested',
    ]);
  });

  it('reads template variables, judged as the step is reached', () => {
    const { run, effects } = authorized([conditional('A', '{{ fromVersion }}')], { fromVersion: 'v1.5.0' });
    expect(kinds(effects)).toEqual(['notify:authorized', 'freeze', 'runStep']);
    expect(run.ctx.steps[0]).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('a human Skip of the step before it also reaches the condition, with no output to read', () => {
    const { run } = authorized(threeSteps());
    run.send(ev.started(t(1), 0));
    run.send(ev.failed(t(2), 0));
    const effects = run.send(ev.skip(t(3), 0));
    expect(kinds(effects)).toEqual(['notify:step-skipped', 'runStep']);
    expect(run.ctx.steps.map((s) => [s.status, s.skippedBy])).toEqual([
      ['skipped', 'U0ONCALL1'],
      ['skipped', 'condition'],
      ['pending', undefined],
    ]);
  });

  it('a rollback stored before when existed (steps without it) runs every step', () => {
    const { run } = authorized([step('A'), step('B')]);
    expect(kinds(succeed(run, 0, { applied: false }))).toEqual(['notify:step-succeeded', 'runStep']);
  });
});
