/**
 * The stabilisation window checks: rounds of the automatic checks every interval, a failure limit,
 * an inconclusive round or a firing alert ending it, and a window end that waits for a running round.
 */
import { describe, expect, it } from 'vitest';
import type { RollbackEvent } from '../../../src/domain/rollback-events.js';
import { MINUTE, at, rollbackInput, standardStrategy } from '../../support/domain-fixtures.js';
import { RollbackDriver, ev, kinds, notices } from '../../support/rollback-driver.js';

const t = (seconds: number) => at(20 * MINUTE + seconds * 1000);

/** Stabilising for 5 minutes from t(2), checks every minute; check 0 auto, check 1 manual. */
function stabilizing(failureLimit = 0): RollbackDriver {
  const run = new RollbackDriver(
    rollbackInput({
      strategy: standardStrategy({
        stabilizeMs: 5 * MINUTE,
        stabilizeEveryMs: MINUTE,
        stabilizeFailureLimit: failureLimit,
      }),
    }),
  );
  run.approveAndRunSteps(at(14 * MINUTE));
  run.send(ev.checkPassed(t(1), 0));
  run.send(ev.manualDone(t(2), 1));
  expect(run.path).toBe('validating.stabilizing');
  return run;
}

const FIRING = { fingerprint: 'fp-1', name: 'CheckoutHighErrorRate', summary: '5xx ratio 7% over 5m' };
const alerts = (atMs: number, firing: Array<typeof FIRING> = [FIRING]): RollbackEvent => ({
  type: 'ALERTS_FIRING',
  at: atMs,
  by: 'alerts',
  alerts: firing,
});
const alert = (atMs: number): RollbackEvent => alerts(atMs);

describe('stabilisation window', () => {
  it('runs the automatic checks again every interval, and resolves after passing rounds', () => {
    const run = stabilizing();
    const round = run.fire('probe');
    expect(round).toEqual([
      { kind: 'runCheck', checkIndex: 0, attempt: 2 },
      { kind: 'scheduleTimer', timer: 'probe', dueAt: t(2) + 2 * MINUTE, seq: 6 },
    ]);
    run.send(ev.checkPassed(t(63), 0));
    expect(run.ctx.stabilization).toMatchObject({
      rounds: 1,
      failures: 0,
      last: { 0: { status: 'succeeded' } },
    });
    for (let n = 2; n <= 4; n += 1) {
      run.fire('probe');
      run.send(ev.checkPassed(t(2 + n * 60 + 1), 0));
    }
    // The last round would start at the window's end: none is scheduled.
    expect(run.ctx.deadlines.probe).toBeUndefined();
    const resolved = run.fire('stabilize');
    expect(run.state).toBe('resolved');
    expect(notices(resolved).at(-1)).toMatchObject({
      event: 'resolved',
      reason: 'validation passed; stable for 5m (4 rounds of checks, no failure)',
    });
  });

  it('a failure within the limit is counted, one more ends the window and asks', () => {
    const run = stabilizing(1);
    run.fire('probe');
    run.send(ev.checkFailed(t(63), 0, 'HTTP 503'));
    expect(run.path).toBe('validating.stabilizing');
    expect(run.ctx.stabilization).toMatchObject({ failures: 1 });
    run.fire('probe');
    const ended = run.send(ev.checkFailed(t(123), 0, 'HTTP 503 again'));
    expect(run.path).toBe('validating.awaitingDecision');
    expect(run.ctx.deadlines.stabilize).toBeUndefined();
    expect(run.ctx.deadlines.probe).toBeUndefined();
    expect(notices(ended)).toMatchObject([
      {
        event: 'stability-lost',
        checkIndex: 0,
        alert: null,
        status: 'failed',
        detail: 'HTTP 503 again',
        rounds: 2,
        failures: 2,
        failureLimit: 1,
        choices: ['revalidate', 'accept', 'abort'],
      },
    ]);
  });

  it('with no failure tolerated, the first failed round ends it', () => {
    const run = stabilizing(0);
    run.fire('probe');
    run.send(ev.checkFailed(t(63), 0));
    expect(run.path).toBe('validating.awaitingDecision');
  });

  it('an inconclusive round ends it whatever the limit', () => {
    const run = stabilizing(5);
    run.fire('probe');
    const ended = run.send(ev.checkInconclusive(t(63), 0));
    expect(run.path).toBe('validating.awaitingDecision');
    expect(notices(ended)[0]).toMatchObject({ event: 'stability-lost', status: 'inconclusive' });
  });

  it('an alert for the service ends it, named in the notice', () => {
    const run = stabilizing();
    run.fire('probe');
    const ended = run.send(alert(t(70)));
    expect(run.path).toBe('validating.awaitingDecision');
    // The round still running is called off; its late result changes nothing.
    expect(run.ctx.checks[0]!.status).toBe('skipped');
    expect(notices(ended)).toMatchObject([
      {
        event: 'stability-lost',
        alert: 'CheckoutHighErrorRate',
        checkIndex: null,
        detail: 'CheckoutHighErrorRate fired during the stabilisation window: 5xx ratio 7% over 5m',
      },
    ]);
    expect(run.ctx.stabilization?.endedBy).toBe('alert CheckoutHighErrorRate');
  });

  it('an alert already firing (known before the window) does not end it, but must resolve by its end', () => {
    const run = new RollbackDriver(
      rollbackInput({
        strategy: standardStrategy({ stabilizeMs: 5 * MINUTE }),
        firingAlerts: [FIRING],
      }),
    );
    run.approveAndRunSteps(at(14 * MINUTE));
    run.send(ev.checkPassed(t(1), 0));
    run.send(ev.manualDone(t(2), 1));
    // Re-told while the window runs: the same alert, nothing new.
    run.send(alerts(t(30)));
    expect(run.path).toBe('validating.stabilizing');
    const end = run.fire('stabilize', t(2) + 5 * MINUTE);
    expect(run.path).toBe('validating.awaitingDecision');
    expect(notices(end)[0]).toMatchObject({
      event: 'stability-lost',
      alert: 'CheckoutHighErrorRate',
      detail:
        'CheckoutHighErrorRate was still firing at the end of the stabilisation window: 5xx ratio 7% over 5m',
    });
  });

  it('an alert that resolved before the end lets the window pass', () => {
    const run = new RollbackDriver(
      rollbackInput({ strategy: standardStrategy({ stabilizeMs: 5 * MINUTE }), firingAlerts: [FIRING] }),
    );
    run.approveAndRunSteps(at(14 * MINUTE));
    run.send(ev.checkPassed(t(1), 0));
    run.send(ev.manualDone(t(2), 1));
    run.send(alerts(t(90), []));
    run.fire('stabilize', t(2) + 5 * MINUTE);
    expect(run.state).toBe('resolved');
  });

  it('alerts are kept up with in any state before the end, and refused after it', () => {
    const run = new RollbackDriver(rollbackInput());
    run.send(alert(at(MINUTE)));
    expect(run.ctx.firingAlerts).toEqual([FIRING]);
    run.send(ev.cancel(at(2 * MINUTE)));
    expect(run.refuse(alert(at(3 * MINUTE))).code).toBe('not_accepted');
  });

  it("a window's end during a running round waits for the round", () => {
    const run = stabilizing();
    for (let n = 1; n <= 4; n += 1) {
      run.fire('probe');
      if (n < 4) run.send(ev.checkPassed(t(2 + n * 60 + 1), 0));
    }
    const end = run.fire('stabilize');
    expect(kinds(end)).toEqual([]);
    expect(run.path).toBe('validating.stabilizing');
    run.send(ev.checkPassed(t(2 + 5 * 60 + 3), 0));
    expect(run.state).toBe('resolved');
  });

  it('re-validating after an alert opens a new window', () => {
    const run = stabilizing();
    run.send(alert(t(30)));
    run.send(ev.retry(t(40)));
    expect(run.path).toBe('validating.stabilizing');
    expect(run.ctx.stabilization).toMatchObject({ startedAt: t(40), rounds: 0, failures: 0 });
    expect(run.ctx.stabilization?.endedBy).toBeUndefined();
  });
});
