/**
 * Steps after resolution (issue 14): planned when the rollback resolves, each due at the resolution
 * plus its delay, run in order on the `after` timer, reported; a failure is recorded and the
 * rollback stays resolved; a new rollback of the service supersedes them; other endings plan none.
 */
import { describe, expect, it } from 'vitest';
import { hasEnded, isFinal } from '../../../src/domain/rollback-machine.js';
import { templateVarsFor } from '../../../src/domain/template-vars.js';
import {
  MINUTE,
  afterStep,
  at,
  blueGreenWithAfter,
  rollbackInput,
  standardStrategy,
  step,
} from '../../support/domain-fixtures.js';
import { RollbackDriver, ev, kinds, notices } from '../../support/rollback-driver.js';

const withAfter = (strategy = blueGreenWithAfter()) => new RollbackDriver(rollbackInput({ strategy }));

/** Resolved at minute 10 (the stabilisation window ends then). */
function resolved(strategy = blueGreenWithAfter()): { run: RollbackDriver; resolvedAt: number } {
  const run = withAfter(strategy);
  const resolvedAt = run.resolve(at(MINUTE));
  return { run, resolvedAt };
}

describe('steps after resolution: planning', () => {
  it('are planned when it resolves, each due at the resolution plus its delay, the first timer set', () => {
    const run = withAfter();
    run.approveAndRunSteps(at(MINUTE));
    run.send(ev.checkPassed(at(2 * MINUTE), 0));
    run.send(ev.manualDone(at(2 * MINUTE), 1));
    expect(run.ctx.afterSteps).toBeUndefined();
    const effects = run.fire('stabilize');
    const resolvedAt = run.ctx.outcome!.at;
    expect(run.state).toBe('resolved');
    expect(run.path).toBe('resolved.waiting');
    expect(run.ctx.afterSteps).toEqual([
      {
        name: 'Scale down blue',
        uses: 'command',
        status: 'pending',
        dueAt: resolvedAt + 5 * MINUTE,
        attempts: 0,
      },
      {
        name: 'Prune blue images',
        uses: 'http',
        status: 'pending',
        dueAt: resolvedAt + 10 * MINUTE,
        attempts: 0,
      },
    ]);
    // Resolved first (freeze off, everyone told), then the plan for after it, then its first timer.
    expect(kinds(effects)).toEqual([
      'freeze',
      'notify:resolved',
      'notify:after-steps-scheduled',
      'scheduleTimer',
    ]);
    expect(effects.at(-1)).toMatchObject({ timer: 'after', dueAt: resolvedAt + 5 * MINUTE });
    expect(notices(effects)[1]).toMatchObject({ dueAt: [resolvedAt + 5 * MINUTE, resolvedAt + 10 * MINUTE] });
    expect(Object.keys(run.ctx.deadlines)).toEqual(['after']);
  });

  it('keeps the rollback resolved and final for everyone outside while they wait', () => {
    const { run, resolvedAt } = resolved();
    expect(isFinal(run.snapshot)).toBe(true);
    expect(hasEnded(run.snapshot)).toBe(false);
    expect(run.ctx.outcome).toMatchObject({ code: 'resolved', at: resolvedAt });
    // People can do nothing more to it: it has ended for them.
    expect(run.refuse(ev.abort(resolvedAt + MINUTE)).message).toBe(
      'ABORT is not accepted: the rollback has ended (resolved)',
    );
    expect(run.refuse(ev.cancel(resolvedAt + MINUTE)).message).toBe(
      'CANCEL is not accepted: the rollback has ended (resolved)',
    );
  });

  it('with none in the plan, it resolves exactly as before: straight to the end', () => {
    const run = new RollbackDriver();
    run.approveAndRunSteps(at(MINUTE));
    run.send(ev.checkPassed(at(2 * MINUTE), 0));
    run.send(ev.manualDone(at(2 * MINUTE), 1));
    expect(kinds(run.fire('stabilize'))).toEqual(['freeze', 'notify:resolved']);
    expect(run.path).toBe('resolved.done');
    expect(run.ctx.afterSteps).toBeUndefined();
    expect(run.ctx.deadlines).toEqual({});
    expect(hasEnded(run.snapshot)).toBe(true);
  });

  it.each([
    ['aborted', (run: RollbackDriver) => run.send(ev.abort(at(3 * MINUTE)))],
    ['cancelled', (run: RollbackDriver) => run.send(ev.cancel(at(3 * MINUTE)))],
    ['rejected', (run: RollbackDriver) => run.send(ev.reject(at(3 * MINUTE)))],
    ['expired', (run: RollbackDriver) => run.fire('expire')],
  ])('are never planned when it ends %s', (_name, end) => {
    const run = withAfter();
    if (_name === 'aborted') {
      run.send(ev.approve(at(MINUTE)));
      run.send(ev.started(at(2 * MINUTE), 0));
    }
    const effects = end(run);
    expect(run.ctx.afterSteps).toBeUndefined();
    expect(run.ctx.deadlines).toEqual({});
    expect(kinds(effects).filter((k) => k.includes('after') || k === 'scheduleTimer')).toEqual([]);
    expect(hasEnded(run.snapshot)).toBe(true);
  });

  it('are never planned when a step fails and the plan says abort', () => {
    const run = withAfter(blueGreenWithAfter({ steps: [step('Only', { kind: 'abort' })] }));
    run.send(ev.approve(at(MINUTE)));
    run.send(ev.started(at(2 * MINUTE), 0));
    run.send(ev.failed(at(3 * MINUTE), 0));
    expect(run.state).toBe('failed');
    expect(run.ctx.afterSteps).toBeUndefined();
    expect(hasEnded(run.snapshot)).toBe(true);
  });
});

describe('steps after resolution: running', () => {
  it('run in order, each on its timer through the step runner, and then it has ended', () => {
    const { run, resolvedAt } = resolved();
    expect(run.refuse(ev.afterStarted(resolvedAt + MINUTE, 0)).code).toBe('not_accepted');
    expect(run.fire('after')).toEqual([{ kind: 'runStep', stepIndex: 0, attempt: 1, phase: 'after' }]);
    expect(run.path).toBe('resolved.queued');
    expect(run.ctx.deadlines).toEqual({});
    const started = run.send(ev.afterStarted(resolvedAt + 5 * MINUTE, 0));
    expect(notices(started)).toMatchObject([{ event: 'after-step-started', afterIndex: 0 }]);
    expect(run.path).toBe('resolved.running');
    const done = run.send(ev.afterSucceeded(resolvedAt + 6 * MINUTE, 0, { replicas: 0 }));
    expect(kinds(done)).toEqual(['notify:after-step-succeeded', 'scheduleTimer']);
    // The second is due 10 minutes after the resolution, not after the first one.
    expect(done[1]).toMatchObject({ timer: 'after', dueAt: resolvedAt + 10 * MINUTE });
    expect(run.ctx.afterSteps![0]).toMatchObject({
      status: 'succeeded',
      startedAt: resolvedAt + 5 * MINUTE,
      endedAt: resolvedAt + 6 * MINUTE,
      output: { replicas: 0 },
    });
    expect(run.fire('after')).toEqual([{ kind: 'runStep', stepIndex: 1, attempt: 1, phase: 'after' }]);
    run.send(ev.afterStarted(resolvedAt + 10 * MINUTE, 1));
    expect(kinds(run.send(ev.afterSucceeded(resolvedAt + 11 * MINUTE, 1)))).toEqual([
      'notify:after-step-succeeded',
    ]);
    expect(run.path).toBe('resolved.done');
    expect(run.ctx.deadlines).toEqual({});
    expect(hasEnded(run.snapshot)).toBe(true);
    expect(run.refuse(ev.superseded(resolvedAt + 12 * MINUTE)).message).toBe(
      'SUPERSEDED is not accepted: the rollback has ended (resolved)',
    );
    // Nothing about the resolution changed.
    expect(run.ctx.outcome).toMatchObject({ code: 'resolved', at: resolvedAt });
  });

  it('start the next one at once when the one above ran past its time', () => {
    const { run, resolvedAt } = resolved();
    run.fire('after');
    run.send(ev.afterStarted(resolvedAt + 5 * MINUTE, 0));
    const late = resolvedAt + 12 * MINUTE;
    const done = run.send(ev.afterSucceeded(late, 0));
    expect(done[1]).toMatchObject({ kind: 'scheduleTimer', timer: 'after', dueAt: late });
  });

  it('offer later ones the outputs of the steps and of the after-steps above', () => {
    const { run, resolvedAt } = resolved();
    run.fire('after');
    run.send(ev.afterStarted(resolvedAt + 5 * MINUTE, 0));
    run.send(ev.afterSucceeded(resolvedAt + 6 * MINUTE, 0, { replicas: 0 }));
    expect(templateVarsFor(run.ctx).steps['scale-down-blue']).toEqual({ output: { replicas: 0 } });
  });

  it('refuse stale and misdirected reports with a reason, changing nothing', () => {
    const { run, resolvedAt } = resolved();
    run.fire('after');
    const t = resolvedAt + 5 * MINUTE;
    expect(run.refuse(ev.afterStarted(t, 1))).toMatchObject({
      code: 'stale',
      message: expect.stringContaining('the current one is after-step 0 ("Scale down blue")') as unknown,
    });
    expect(run.refuse(ev.afterStarted(t, 0, 2))).toMatchObject({ code: 'stale' });
    expect(run.refuse(ev.afterStarted(t, 7))).toMatchObject({ code: 'invalid' });
    // A report of the rollback's own steps is never taken for one after resolution.
    expect(run.refuse(ev.started(t, 0)).message).toBe(
      'STEP_STARTED is not accepted: the rollback has ended (resolved)',
    );
    run.send(ev.afterStarted(t, 0));
    expect(run.refuse(ev.afterStarted(t, 0))).toMatchObject({ code: 'not_accepted' });
    expect(run.refuse(ev.timer(t, 'after', run.ctx.timerSeq))).toMatchObject({ ok: false });
  });
});

describe('steps after resolution: failures', () => {
  it('a failure is recorded and reported, the ones below are skipped, and it stays resolved', () => {
    const { run, resolvedAt } = resolved();
    run.fire('after');
    run.send(ev.afterStarted(resolvedAt + 5 * MINUTE, 0));
    const effects = run.send(ev.afterFailed(resolvedAt + 6 * MINUTE, 0, 'deployment "blue" not found'));
    expect(notices(effects)).toEqual([
      expect.objectContaining({
        event: 'after-step-failed',
        afterIndex: 0,
        error: 'deployment "blue" not found',
        skipped: 1,
      }),
    ]);
    // No freeze, no new outcome, no prompt: the rollback is not reopened.
    expect(kinds(effects)).toEqual(['notify:after-step-failed']);
    expect(run.state).toBe('resolved');
    expect(run.path).toBe('resolved.done');
    expect(run.ctx.outcome).toMatchObject({ code: 'resolved', at: resolvedAt });
    expect(run.ctx.afterSteps!.map((s) => s.status)).toEqual(['failed', 'skipped']);
    expect(run.ctx.afterSteps![0]!.error).toBe('deployment "blue" not found');
    expect(run.ctx.afterSteps![1]!.note).toBe('not run: "Scale down blue" failed');
    expect(run.ctx.deadlines).toEqual({});
    expect(run.refuse(ev.retry(resolvedAt + 7 * MINUTE)).message).toMatch(/has ended \(resolved\)/);
  });

  it('an interrupted one (the bot restarted) is not run again, nor are the ones below', () => {
    const { run, resolvedAt } = resolved();
    run.fire('after');
    const effects = run.send(ev.afterInterrupted(resolvedAt + 5 * MINUTE, 0));
    expect(notices(effects)).toMatchObject([{ event: 'after-step-interrupted', afterIndex: 0, skipped: 1 }]);
    expect(run.ctx.afterSteps!.map((s) => s.status)).toEqual(['interrupted', 'skipped']);
    expect(run.path).toBe('resolved.done');
  });

  it('the last one failing skips nothing', () => {
    const { run, resolvedAt } = resolved(
      standardStrategy({ after: [afterStep('Scale down blue', 0)], stabilizeMs: 0 }),
    );
    run.fire('after');
    run.send(ev.afterStarted(resolvedAt, 0));
    expect(notices(run.send(ev.afterFailed(resolvedAt + 1, 0)))).toMatchObject([{ skipped: 0 }]);
  });
});

describe('steps after resolution: a new rollback of the service supersedes them', () => {
  it('calls off the pending ones and their timer', () => {
    const { run, resolvedAt } = resolved();
    const effects = run.send(ev.superseded(resolvedAt + MINUTE, 'rb-next'));
    expect(kinds(effects)).toEqual(['notify:after-steps-cancelled']);
    expect(notices(effects)[0]).toMatchObject({ supersededBy: 'rb-next', interrupted: null, skipped: 2 });
    expect(run.ctx.afterSteps!.map((s) => s.status)).toEqual(['skipped', 'skipped']);
    expect(run.ctx.afterSteps![0]!.note).toBe(
      'called off: rollback rb-next of checkout in production was declared',
    );
    expect(run.ctx.deadlines).toEqual({});
    expect(run.path).toBe('resolved.done');
    expect(run.refuse(ev.timer(resolvedAt + 5 * MINUTE, 'after', run.ctx.timerSeq)).code).toBe('stale');
  });

  it('stops the running one through cancelStep and skips the rest', () => {
    const { run, resolvedAt } = resolved();
    run.fire('after');
    run.send(ev.afterStarted(resolvedAt + 5 * MINUTE, 0));
    const effects = run.send(ev.superseded(resolvedAt + 6 * MINUTE, 'rb-next'));
    expect(effects[0]).toEqual({ kind: 'cancelStep', stepIndex: 0, attempt: 1, phase: 'after' });
    expect(notices(effects)[0]).toMatchObject({ interrupted: 0, skipped: 1 });
    expect(run.ctx.afterSteps!.map((s) => s.status)).toEqual(['interrupted', 'skipped']);
    // Its worker's late report changes nothing.
    expect(run.refuse(ev.afterSucceeded(resolvedAt + 7 * MINUTE, 0)).message).toMatch(/has ended/);
  });

  it('stops one asked for but not started yet', () => {
    const { run, resolvedAt } = resolved();
    run.fire('after');
    const effects = run.send(ev.superseded(resolvedAt + 5 * MINUTE, 'rb-next'));
    expect(effects[0]).toEqual({ kind: 'cancelStep', stepIndex: 0, attempt: 1, phase: 'after' });
    expect(run.ctx.afterSteps!.map((s) => s.status)).toEqual(['interrupted', 'skipped']);
  });

  it('is refused naming the rollback itself', () => {
    const { run, resolvedAt } = resolved();
    expect(run.refuse(ev.superseded(resolvedAt + MINUTE, run.ctx.id))).toMatchObject({ code: 'invalid' });
  });
});
