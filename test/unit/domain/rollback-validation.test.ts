/**
 * Validation: automatic checks and manual items, the stabilisation window, and what a failed or
 * inconclusive check leads to (re-validate, accept by an authorised user, abort).
 */
import { describe, expect, it } from 'vitest';
import { MINUTE, ROLES, USERS, at, rollbackInput, standardStrategy } from '../../support/domain-fixtures.js';
import { RollbackDriver, ev, kinds, notices } from '../../support/rollback-driver.js';

const t = (seconds: number) => at(20 * MINUTE + seconds * 1000);

/** Approved at minute 14 by on-call, steps done at minute ~14: validating, check 0 auto, check 1 manual. */
function validating(stabilizeMs = 5 * MINUTE): RollbackDriver {
  const run = new RollbackDriver(rollbackInput({ strategy: standardStrategy({ stabilizeMs }) }));
  run.approveAndRunSteps(at(14 * MINUTE));
  expect(run.path).toBe('validating.checking');
  return run;
}

describe('checks', () => {
  it('runs every automatic check and asks for every manual item on entry', () => {
    const run = validating();
    expect(run.effects.slice(1)).toEqual([
      { kind: 'runCheck', checkIndex: 0, attempt: 1 },
      {
        kind: 'notify',
        event: 'manual-check-requested',
        checkIndex: 1,
        at: run.ctx.lastEventAt,
        by: 'system',
      },
    ]);
    expect(run.ctx.checks.map((c) => [c.kind, c.status])).toEqual([
      ['auto', 'running'],
      ['manual', 'pending'],
    ]);
  });

  it('stabilises once all checks succeeded, then resolves when the window ends', () => {
    const run = validating();
    expect(run.send(ev.checkPassed(t(1), 0))).toEqual([]);
    expect(run.path).toBe('validating.checking');
    const passed = run.send(ev.manualDone(t(2), 1));
    expect(run.path).toBe('validating.stabilizing');
    expect(passed).toEqual([
      {
        kind: 'notify',
        event: 'validation-passed',
        accepted: false,
        stabilizeUntil: t(2) + 5 * MINUTE,
        at: t(2),
        by: USERS.oncall,
      },
      { kind: 'scheduleTimer', timer: 'stabilize', dueAt: t(2) + 5 * MINUTE, seq: 4 },
      // The first round of checks inside the window, a minute in (the default interval).
      { kind: 'scheduleTimer', timer: 'probe', dueAt: t(2) + MINUTE, seq: 5 },
    ]);
    expect(run.ctx.checks[1]).toMatchObject({ status: 'succeeded', by: USERS.oncall, at: t(2) });
    const resolved = run.fire('stabilize');
    expect(run.state).toBe('resolved');
    expect(resolved).toEqual([
      { kind: 'freeze', on: false },
      {
        kind: 'notify',
        event: 'resolved',
        reason: 'validation passed; stable for 5m',
        at: t(2) + 5 * MINUTE,
        by: 'system',
      },
    ]);
  });

  it('resolves right away when the plan has no stabilisation window', () => {
    const run = validating(0);
    run.send(ev.checkPassed(t(1), 0));
    const effects = run.send(ev.manualDone(t(2), 1));
    expect(run.state).toBe('resolved');
    expect(kinds(effects)).toEqual(['notify:validation-passed', 'freeze', 'notify:resolved']);
  });

  it('MANUAL_DONE needs a policy role and a manual item still open', () => {
    const run = validating();
    expect(run.refuse(ev.manualDone(t(1), 1, USERS.outsider, ROLES.none)).message).toBe(
      'marking a check done needs a role in authority policy "default"; you hold none',
    );
    expect(run.refuse(ev.manualDone(t(1), 0)).code).toBe('invalid');
    run.send(ev.manualDone(t(1), 1));
    expect(run.refuse(ev.manualDone(t(2), 1)).code).toBe('stale');
  });

  it('refuses automatic results for a manual item, a duplicate or an unknown check', () => {
    const run = validating();
    expect(run.refuse(ev.checkPassed(t(1), 1)).code).toBe('invalid');
    expect(run.refuse(ev.checkPassed(t(1), 7)).code).toBe('invalid');
    run.send(ev.checkPassed(t(1), 0));
    expect(run.refuse(ev.checkPassed(t(2), 0)).message).toBe(
      'stale event: check 0 ("Health endpoint") is not running (succeeded)',
    );
  });
});

describe('failed validation', () => {
  it('a failed check asks for a decision: re-validate, accept or abort', () => {
    const run = validating();
    const effects = run.send(ev.checkFailed(t(1), 0));
    expect(run.path).toBe('validating.awaitingDecision');
    expect(effects).toEqual([
      {
        kind: 'notify',
        event: 'validation-failed',
        checkIndex: 0,
        status: 'failed',
        detail: 'p99 above baseline',
        choices: ['revalidate', 'accept', 'abort'],
        at: t(1),
        by: 'system',
      },
    ]);
  });

  it('an inconclusive check asks a human instead of guessing', () => {
    const run = validating();
    run.send(ev.checkInconclusive(t(1), 0));
    expect(run.path).toBe('validating.awaitingDecision');
    expect(run.ctx.checks[0]).toMatchObject({ status: 'inconclusive', detail: 'query returned nothing' });
  });

  it('RETRY_STEP re-validates the failed checks only and can then pass', () => {
    const run = validating();
    run.send(ev.manualDone(t(1), 1));
    run.send(ev.checkFailed(t(2), 0));
    expect(run.send(ev.retry(t(3)))).toEqual([{ kind: 'runCheck', checkIndex: 0, attempt: 2 }]);
    expect(run.path).toBe('validating.checking');
    expect(run.refuse({ type: 'CHECK_PASSED', at: t(4), by: 'system', check: 0, attempt: 1 }).code).toBe(
      'stale',
    );
    run.send(ev.checkPassed(t(4), 0));
    expect(run.path).toBe('validating.stabilizing');
  });

  it('a late Retry button of a step is stale during validation', () => {
    const run = validating();
    run.send(ev.checkFailed(t(1), 0));
    expect(run.refuse(ev.retry(t(2), 1))).toMatchObject({ code: 'stale' });
  });

  it('still records results of other checks while waiting for the decision', () => {
    const run = validating();
    run.send(ev.checkFailed(t(1), 0));
    run.send(ev.manualDone(t(2), 1));
    expect(run.path).toBe('validating.awaitingDecision');
    expect(run.ctx.checks[1]?.status).toBe('succeeded');
  });

  it('ACCEPT by someone ranking for the tier continues as passed', () => {
    const run = validating();
    run.send(ev.checkFailed(t(1), 0));
    expect(run.refuse(ev.accept(t(2)))).toEqual({
      ok: false,
      code: 'unauthorized',
      message: 'needs team-lead or above since minute 15; you are on-call-engineer',
    });
    const effects = run.send(ev.accept(t(2), USERS.lead, ROLES.lead));
    expect(run.path).toBe('validating.stabilizing');
    expect(notices(effects)[0]).toMatchObject({ event: 'validation-passed', accepted: true, by: USERS.lead });
    expect(run.ctx.acceptance).toEqual({ by: USERS.lead, role: 'team-lead', at: t(2) });
    expect(run.ctx.checks.map((c) => c.status)).toEqual(['failed', 'skipped']);
    run.fire('stabilize');
    expect(run.ctx.outcome?.reason).toBe(`validation accepted by ${USERS.lead}; stable for 5m`);
  });

  it('ABORT while validating ends in aborted; CANCEL too', () => {
    const run = validating();
    run.send(ev.checkFailed(t(1), 0));
    run.send(ev.abort(t(2)));
    expect(run.state).toBe('aborted');
    const other = validating();
    other.send(ev.cancel(t(1)));
    expect(other.state).toBe('aborted');
  });

  it('a check failing during stabilisation asks again and drops the stabilize timer', () => {
    const run = validating();
    run.send(ev.checkPassed(t(1), 0));
    run.send(ev.manualDone(t(2), 1));
    const seq = run.ctx.deadlines.stabilize!.seq;
    run.send(ev.checkFailed(t(30), 0, 'error rate back up'));
    expect(run.path).toBe('validating.awaitingDecision');
    expect(run.ctx.deadlines.stabilize).toBeUndefined();
    expect(run.refuse(ev.timer(t(2) + 5 * MINUTE, 'stabilize', seq)).code).toBe('stale');
    expect(run.refuse(ev.checkPassed(t(31), 1)).code).toBe('invalid');
    run.send(ev.retry(t(40)));
    run.send(ev.checkPassed(t(41), 0));
    expect(run.path).toBe('validating.stabilizing');
    // A new window: its end and its first round are scheduled afresh.
    expect(run.ctx.deadlines.stabilize).toEqual({ dueAt: t(41) + 5 * MINUTE, seq: seq + 2 });
  });

  it('re-validating after an accepted validation runs the skipped checks too', () => {
    const run = validating();
    run.send(ev.checkFailed(t(1), 0));
    run.send(ev.accept(t(2), USERS.lead, ROLES.lead));
    run.send(ev.checkFailed(t(3), 0));
    const effects = run.send(ev.retry(t(4)));
    expect(kinds(effects)).toEqual(['runCheck', 'notify:manual-check-requested']);
    expect(run.ctx.checks.map((c) => c.status)).toEqual(['running', 'pending']);
  });

  it('only CHECK_FAILED interrupts stabilisation', () => {
    const run = validating();
    run.send(ev.checkPassed(t(1), 0));
    run.send(ev.manualDone(t(2), 1));
    expect(run.refuse(ev.checkInconclusive(t(3), 0))).toMatchObject({
      code: 'stale',
      message: 'stale event: check 0 ("Health endpoint") is not running (succeeded)',
    });
    expect(run.refuse(ev.manualDone(t(3), 1)).code).toBe('not_accepted');
    expect(run.refuse(ev.checkFailed(t(3), 9)).code).toBe('invalid');
  });
});
