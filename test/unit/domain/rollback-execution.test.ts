/**
 * Execution: one step at a time, the plan's onFailure (abort | retry N | ask), interruption,
 * human decisions (retry, skip, abort, cancel) and stale step events.
 */
import { describe, expect, it } from 'vitest';
import type { OnFailure } from '../../../src/domain/plan.js';
import {
  MINUTE,
  ROLES,
  USERS,
  at,
  rollbackInput,
  standardStrategy,
  step,
} from '../../support/domain-fixtures.js';
import { RollbackDriver, ev, kinds, notices } from '../../support/rollback-driver.js';

function authorized(onFailure: OnFailure = { kind: 'ask' }, stepCount = 2): RollbackDriver {
  const steps = Array.from({ length: stepCount }, (_, i) => step(`Step ${i}`, onFailure));
  const run = new RollbackDriver(rollbackInput({ strategy: standardStrategy({ steps }) }));
  run.send(ev.approve(at(MINUTE)));
  return run;
}

const t = (seconds: number) => at(2 * MINUTE + seconds * 1000);

describe('the happy path through the steps', () => {
  it('runs step 0, then step 1, then validates; records times and outputs', () => {
    const run = authorized();
    expect(run.ctx.steps[0]).toMatchObject({ status: 'pending', attempts: 1 });
    expect(run.send(ev.started(t(1), 0))).toEqual([
      { kind: 'notify', event: 'step-started', stepIndex: 0, attempt: 1, at: t(1), by: 'system' },
    ]);
    expect(run.path).toBe('executing.running');
    const effects = run.send(ev.succeeded(t(2), 0, { revision: 7 }));
    expect(run.path).toBe('executing.queued');
    expect(kinds(effects)).toEqual(['notify:step-succeeded', 'runStep']);
    expect(effects[1]).toEqual({ kind: 'runStep', stepIndex: 1, attempt: 1 });
    expect(run.ctx.steps[0]).toEqual({
      name: 'Step 0',
      uses: 'http',
      status: 'succeeded',
      attempts: 1,
      startedAt: t(1),
      endedAt: t(2),
      output: { revision: 7 },
    });
    run.send(ev.started(t(3), 1));
    const last = run.send(ev.succeeded(t(4), 1));
    expect(run.path).toBe('validating.checking');
    expect(kinds(last)).toEqual(['notify:step-succeeded', 'runCheck', 'notify:manual-check-requested']);
    expect(run.ctx.currentStep).toBe(2);
  });

  it('goes straight from authorized to validating when the strategy has no steps', () => {
    const run = new RollbackDriver(rollbackInput({ strategy: standardStrategy({ steps: [] }) }));
    const effects = run.send(ev.approve(at(MINUTE)));
    expect(run.path).toBe('validating.checking');
    expect(kinds(effects)).toEqual([
      'notify:authorized',
      'freeze',
      'runCheck',
      'notify:manual-check-requested',
    ]);
  });

  it('resolves at once with no steps, no checks and no stabilisation', () => {
    const run = new RollbackDriver(
      rollbackInput({ strategy: standardStrategy({ steps: [], validate: [], stabilizeMs: 0 }) }),
    );
    const effects = run.send(ev.approve(at(MINUTE)));
    expect(run.state).toBe('resolved');
    expect(kinds(effects)).toEqual([
      'notify:authorized',
      'freeze',
      'notify:validation-passed',
      'freeze',
      'notify:resolved',
    ]);
    expect(effects.filter((e) => e.kind === 'freeze')).toEqual([
      { kind: 'freeze', on: true },
      { kind: 'freeze', on: false },
    ]);
  });
});

describe('onFailure', () => {
  it('abort: the rollback fails, the freeze is lifted', () => {
    const run = authorized({ kind: 'abort' });
    run.send(ev.started(t(1), 0));
    const effects = run.send(ev.failed(t(2), 0, 'HTTP 500'));
    expect(run.state).toBe('failed');
    expect(kinds(effects)).toEqual(['notify:step-failed', 'freeze', 'notify:failed']);
    expect(notices(effects)[0]).toMatchObject({ next: 'abort', choices: [], error: 'HTTP 500' });
    expect(run.ctx.outcome).toEqual({
      code: 'failed',
      reason: 'step 0 ("Step 0") failed: HTTP 500',
      by: 'system',
      at: t(2),
    });
    expect(run.ctx.steps[0]).toMatchObject({ status: 'failed', error: 'HTTP 500', endedAt: t(2) });
  });

  it('retry 2: runs again while attempts <= 2, then asks', () => {
    const run = authorized({ kind: 'retry', times: 2 });
    for (const attempt of [1, 2]) {
      run.send(ev.started(t(attempt * 10), 0, attempt));
      const effects = run.send(ev.failed(t(attempt * 10 + 1), 0));
      expect(run.path).toBe('executing.queued');
      expect(notices(effects)[0]).toMatchObject({ event: 'step-failed', attempt, next: 'retry' });
      expect(effects[1]).toEqual({ kind: 'runStep', stepIndex: 0, attempt: attempt + 1 });
      expect(run.ctx.steps[0]).toMatchObject({ status: 'pending', attempts: attempt + 1 });
      expect(run.ctx.steps[0]?.error).toBeUndefined();
    }
    run.send(ev.started(t(30), 0, 3));
    const effects = run.send(ev.failed(t(31), 0));
    expect(run.path).toBe('executing.awaitingDecision');
    expect(notices(effects)[0]).toMatchObject({
      attempt: 3,
      next: 'ask',
      choices: ['retry', 'skip', 'abort'],
    });
    expect(kinds(effects)).toEqual(['notify:step-failed']);
  });

  it('retry then success moves on', () => {
    const run = authorized({ kind: 'retry', times: 1 });
    run.send(ev.started(t(1), 0));
    run.send(ev.failed(t(2), 0));
    run.send(ev.started(t(3), 0, 2));
    run.send(ev.succeeded(t(4), 0));
    expect(run.ctx.steps[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(run.path).toBe('executing.queued');
  });

  it('ask: waits for a human with Retry / Skip / Abort', () => {
    const run = authorized({ kind: 'ask' });
    run.send(ev.started(t(1), 0));
    run.send(ev.failed(t(2), 0));
    expect(run.path).toBe('executing.awaitingDecision');
    expect(run.ctx.steps[0]).toMatchObject({ status: 'failed', error: 'HTTP 502' });
  });
});

describe('decisions on a failed or interrupted step', () => {
  function waitingOnStep0(): RollbackDriver {
    const run = authorized();
    run.send(ev.started(t(1), 0));
    run.send(ev.failed(t(2), 0));
    return run;
  }

  it('RETRY_STEP runs the same step again as a new attempt', () => {
    const run = waitingOnStep0();
    expect(run.send(ev.retry(t(3)))).toEqual([{ kind: 'runStep', stepIndex: 0, attempt: 2 }]);
    expect(run.path).toBe('executing.queued');
    run.send(ev.started(t(4), 0, 2));
    run.send(ev.succeeded(t(5), 0));
    expect(run.ctx.currentStep).toBe(1);
  });

  it('RETRY_STEP needs a policy role and must name the waiting step if it names one', () => {
    const run = waitingOnStep0();
    expect(run.refuse(ev.retry(t(3), undefined, USERS.outsider, ROLES.none)).message).toBe(
      'retrying needs a role in authority policy "default"; you hold none',
    );
    expect(run.refuse(ev.retry(t(3), 1))).toMatchObject({ code: 'stale' });
    run.send(ev.retry(t(3), 0));
  });

  it('SKIP_STEP marks the step skipped and runs the next one', () => {
    const run = waitingOnStep0();
    const effects = run.send(ev.skip(t(3), 0));
    expect(effects).toEqual([{ kind: 'runStep', stepIndex: 1, attempt: 1 }]);
    expect(run.ctx.steps[0]).toMatchObject({ status: 'skipped', skippedBy: USERS.oncall, endedAt: t(3) });
  });

  it('SKIP_STEP of the last step moves on to validation', () => {
    const run = authorized({ kind: 'ask' }, 1);
    run.send(ev.started(t(1), 0));
    run.send(ev.failed(t(2), 0));
    run.send(ev.skip(t(3), 0));
    expect(run.path).toBe('validating.checking');
  });

  it('SKIP_STEP refuses a step that is not the one waiting', () => {
    const run = waitingOnStep0();
    expect(run.refuse(ev.skip(t(3), 1)).message).toBe(
      'stale event: SKIP_STEP for step 1 ("Step 1"), but the current step is step 0 ("Step 0")',
    );
    expect(run.refuse(ev.skip(t(3), 9))).toMatchObject({ code: 'invalid' });
    expect(run.refuse(ev.skip(t(3), 0, USERS.outsider, ROLES.none)).message).toBe(
      'skipping a step needs a role in authority policy "default"; you hold none',
    );
  });

  it('ABORT ends in aborted; needs a policy role', () => {
    const run = waitingOnStep0();
    expect(run.refuse(ev.abort(t(3), USERS.outsider, ROLES.none)).code).toBe('unauthorized');
    const effects = run.send(ev.abort(t(3)));
    expect(run.state).toBe('aborted');
    expect(kinds(effects)).toEqual(['freeze', 'notify:aborted']);
  });

  it('CANCEL after execution began ends in aborted, not cancelled, and stops the running step', () => {
    const run = authorized();
    run.send(ev.started(t(1), 0));
    const effects = run.send(ev.cancel(t(2)));
    expect(run.state).toBe('aborted');
    expect(run.ctx.outcome).toMatchObject({
      code: 'aborted',
      reason: `cancelled by ${USERS.oncall} after execution began`,
    });
    expect(effects).toEqual([
      { kind: 'cancelStep', stepIndex: 0, attempt: 1 },
      { kind: 'freeze', on: false },
      expect.objectContaining({ kind: 'notify', event: 'aborted' }),
    ]);
    expect(run.ctx.steps[0]).toMatchObject({ status: 'interrupted', endedAt: t(2) });
    expect(run.refuse(ev.succeeded(t(3), 0)).message).toBe(
      'STEP_SUCCEEDED is not accepted: the rollback has ended (aborted)',
    );
  });

  it('CANCEL once authorised stops the step that was asked for', () => {
    const run = authorized();
    const effects = run.send(ev.cancel(t(1)));
    expect(run.state).toBe('cancelled');
    expect(kinds(effects)).toEqual(['cancelStep', 'freeze', 'notify:cancelled']);
    expect(run.ctx.steps.map((s) => s.status)).toEqual(['interrupted', 'pending']);
  });
});

describe('interruption', () => {
  it('is never re-run on its own: interrupted -> human retry -> continues', () => {
    const run = authorized();
    run.send(ev.started(t(1), 0));
    const effects = run.send(ev.interrupted(t(2), 0));
    expect(run.path).toBe('executing.awaitingDecision');
    expect(effects).toEqual([
      {
        kind: 'notify',
        event: 'step-interrupted',
        stepIndex: 0,
        attempt: 1,
        choices: ['retry', 'skip', 'abort'],
        at: t(2),
        by: 'system',
      },
    ]);
    expect(effects.some((e) => e.kind === 'runStep')).toBe(false);
    expect(run.ctx.steps[0]).toMatchObject({ status: 'interrupted' });
    run.send(ev.retry(t(3)));
    run.send(ev.started(t(4), 0, 2));
    run.send(ev.succeeded(t(5), 0));
    expect(run.ctx.steps[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(run.path).toBe('executing.queued');
  });

  it('is taken before the step started too (worker died after claiming it)', () => {
    const run = authorized();
    run.send(ev.interrupted(t(1), 0));
    expect(run.path).toBe('executing.awaitingDecision');
    const queued = authorized();
    queued.send(ev.started(t(1), 0));
    queued.send(ev.succeeded(t(2), 0));
    queued.send(ev.interrupted(t(3), 1));
    expect(queued.ctx.steps[1]).toMatchObject({ status: 'interrupted' });
  });
});

describe('stale step events', () => {
  it('ignores and reports events for another step', () => {
    const run = authorized();
    run.send(ev.started(t(1), 0));
    run.send(ev.succeeded(t(2), 0));
    expect(run.refuse(ev.succeeded(t(3), 0))).toEqual({
      ok: false,
      code: 'stale',
      message: 'stale event: STEP_SUCCEEDED for step 0 ("Step 0"), but the current step is step 1 ("Step 1")',
    });
    expect(run.refuse(ev.started(t(3), 0)).code).toBe('stale');
    run.send(ev.started(t(4), 1));
    expect(run.refuse(ev.failed(t(5), 0)).code).toBe('stale');
    expect(run.refuse(ev.interrupted(t(5), 0)).code).toBe('stale');
    expect(run.path).toBe('executing.running');
  });

  it('ignores a start or result of a superseded attempt', () => {
    const run = authorized({ kind: 'retry', times: 1 });
    run.send(ev.started(t(1), 0));
    run.send(ev.failed(t(2), 0));
    expect(run.refuse(ev.started(t(3), 0, 1)).message).toBe(
      'stale event: attempt 1 of step 0 ("Step 0"), but attempt 2 is the current one',
    );
    run.send(ev.started(t(3), 0, 2));
    expect(
      run.refuse({ type: 'STEP_FAILED', at: t(4), by: 'system', step: 0, attempt: 1, error: 'late' }).code,
    ).toBe('stale');
    // A repeated delivery of the same start is stale too.
    expect(run.refuse(ev.started(t(4), 0, 2)).message).toBe(
      'stale event: step 0 ("Step 0") has already started (running)',
    );
  });

  it('refuses a step index outside the plan', () => {
    const run = authorized();
    expect(run.refuse(ev.started(t(1), 5))).toMatchObject({
      code: 'invalid',
      message: 'STEP_STARTED names step 5; the plan has 2',
    });
  });

  it('refuses step events before execution as not accepted', () => {
    const run = new RollbackDriver();
    expect(run.refuse(ev.succeeded(t(1), 0))).toEqual({
      ok: false,
      code: 'not_accepted',
      message: 'STEP_SUCCEEDED is not accepted while the rollback is declared',
    });
  });
});

describe('periodic status updates', () => {
  it('are scheduled while the rollback runs when the input asks for them', () => {
    const run = new RollbackDriver(rollbackInput({ updateEveryMs: MINUTE }));
    const effects = run.send(ev.approve(at(MINUTE)));
    expect(effects).toContainEqual({ kind: 'scheduleTimer', timer: 'update', dueAt: at(2 * MINUTE), seq: 4 });
    run.send(ev.started(at(MINUTE + 1), 0));
    expect(kinds(run.fire('update'))).toEqual(['notify:status-update', 'scheduleTimer']);
    run.send(ev.abort(at(3 * MINUTE)));
    expect(run.refuse(ev.timer(at(4 * MINUTE), 'update', 5)).code).toBe('stale');
  });
});
