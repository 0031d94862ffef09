/**
 * The rollback machine from declaration to authorisation: effects of the declaration, the
 * authority guards, tier escalation, reminders, expiry, the auto trigger, and how effects come
 * out of xstate's pure `transition()`.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { effectsOf } from '../../../src/domain/rollback-effects.js';
import { isFinal, rollbackMachine, start, stateName } from '../../../src/domain/rollback-machine.js';
import { strategyNeedsHuman } from '../../../src/domain/plan.js';
import {
  MINUTE,
  ROLES,
  SECOND,
  T0,
  USERS,
  at,
  rollbackInput,
  standardStrategy,
  step,
  strictPolicy,
} from '../../support/domain-fixtures.js';
import { RollbackDriver, ev, kinds, notices } from '../../support/rollback-driver.js';

describe('effects out of xstate transition()', () => {
  it('returns custom effect actions unexecuted, with params already resolved', () => {
    const [snapshot, actions] = initialTransition(rollbackMachine, rollbackInput());
    expect(actions.map((a) => a.type)).toEqual(['effect', 'effect', 'effect', 'effect', 'effect']);
    expect(actions[0]?.params).toEqual({
      kind: 'notify',
      event: 'declared',
      at: T0,
      by: USERS.declarer,
      autoStartAt: null,
    });
    const [next, more] = transition(rollbackMachine, snapshot, ev.approve(at(MINUTE)));
    expect(next.value).toBe('authorized');
    // assign() is applied to the context, not listed; only our custom actions come back.
    expect(more.every((a) => a.type === 'effect')).toBe(true);
    expect(effectsOf(more)).toEqual([
      { kind: 'notify', event: 'authorized', via: 'approval', at: at(MINUTE), by: USERS.oncall },
      { kind: 'freeze', on: true },
      { kind: 'runStep', stepIndex: 0, attempt: 1 },
    ]);
  });

  it('returns the same snapshot and no actions for an event the state does not take', () => {
    const [snapshot] = initialTransition(rollbackMachine, rollbackInput());
    const [next, actions] = transition(rollbackMachine, snapshot, ev.started(at(1), 0));
    expect(next).toBe(snapshot);
    expect(actions).toEqual([]);
  });
});

describe('declaration (manual trigger)', () => {
  it('announces, requests approval and schedules tier change, reminder and expiry', () => {
    const started = start(rollbackInput());
    expect(started.state).toBe('declared');
    expect(started.effects).toEqual([
      { kind: 'notify', event: 'declared', autoStartAt: null, at: T0, by: USERS.declarer },
      {
        kind: 'notify',
        event: 'approval-requested',
        at: T0,
        by: USERS.declarer,
        tier: {
          index: 0,
          approver: 'on-call-engineer',
          notify: 'team-lead',
          since: T0,
          until: at(15 * MINUTE),
        },
        approvals: { count: 0, required: 1 },
        expiresAt: at(120 * MINUTE),
      },
      { kind: 'scheduleTimer', timer: 'tier', dueAt: at(15 * MINUTE), seq: 1 },
      { kind: 'scheduleTimer', timer: 'reminder', dueAt: at(5 * MINUTE), seq: 2 },
      { kind: 'scheduleTimer', timer: 'expire', dueAt: at(120 * MINUTE), seq: 3 },
    ]);
    expect(started.snapshot.context.deadlines).toEqual({
      tier: { dueAt: at(15 * MINUTE), seq: 1 },
      reminder: { dueAt: at(5 * MINUTE), seq: 2 },
      expire: { dueAt: at(120 * MINUTE), seq: 3 },
    });
  });

  it('starts in the tier in force when the incident began earlier', () => {
    const started = start(rollbackInput({ at: at(40 * MINUTE) }));
    expect(started.snapshot.context.currentTier).toBe(2);
    expect(started.effects).toContainEqual({
      kind: 'scheduleTimer',
      timer: 'tier',
      dueAt: at(60 * MINUTE),
      seq: 1,
    });
  });

  it('schedules no tier change in the last tier', () => {
    const started = start(rollbackInput({ at: at(61 * MINUTE) }));
    expect(kinds(started.effects)).toEqual([
      'notify:declared',
      'notify:approval-requested',
      'scheduleTimer',
      'scheduleTimer',
    ]);
    expect(started.snapshot.context.deadlines.tier).toBeUndefined();
  });

  it('copies the policy into the context: a later change to the config changes nothing', () => {
    const input = rollbackInput();
    const started = start(input);
    input.policy.tiers[0]!.approver = 'cto';
    input.strategy.steps.pop();
    expect(started.snapshot.context.policy.tiers[0]!.approver).toBe('on-call-engineer');
    expect(started.snapshot.context.strategy.steps).toHaveLength(2);
    expect(stateName(started.snapshot)).toBe('declared');
  });
});

describe('approval', () => {
  it('authorises on one approval and records who, which role, tier and minute', () => {
    const run = new RollbackDriver();
    run.send(ev.approve(at(7 * MINUTE + 30 * SECOND)));
    expect(run.path).toBe('authorized');
    expect(run.ctx.approvals).toEqual([
      { user: USERS.oncall, role: 'on-call-engineer', tier: 0, at: at(450_000), minute: 7 },
    ]);
    expect(run.ctx.authorization).toEqual({ by: USERS.oncall, at: at(450_000), via: 'approval' });
    expect(run.ctx.deadlines).toEqual({});
  });

  it('at 14:59 on-call may approve; at 15:00 only team-lead or above', () => {
    const early = new RollbackDriver();
    early.send(ev.approve(at(15 * MINUTE - 1)));
    expect(early.state).toBe('authorized');

    const late = new RollbackDriver();
    expect(late.refuse(ev.approve(at(15 * MINUTE)))).toEqual({
      ok: false,
      code: 'unauthorized',
      message: 'needs team-lead or above since minute 15; you are on-call-engineer',
    });
    late.send(ev.approve(at(15 * MINUTE), USERS.lead, ROLES.lead));
    expect(late.ctx.approvals[0]).toMatchObject({ role: 'team-lead', tier: 1, minute: 15 });
  });

  it('refuses someone with no role of the policy', () => {
    const run = new RollbackDriver();
    expect(run.refuse(ev.approve(at(1), USERS.outsider, ROLES.none)).message).toBe(
      'needs on-call-engineer or above; you hold no role in authority policy "default"',
    );
  });

  it('needs two different approvers in production under the two-approver rule', () => {
    const run = new RollbackDriver(rollbackInput({ policy: strictPolicy() }));
    expect(run.effects).toContainEqual(expect.objectContaining({ approvals: { count: 0, required: 2 } }));
    const first = run.send(ev.approve(at(MINUTE)));
    expect(run.state).toBe('declared');
    expect(first).toEqual([
      {
        kind: 'notify',
        event: 'approved',
        approver: USERS.oncall,
        role: 'on-call-engineer',
        approvals: { count: 1, required: 2 },
        at: at(MINUTE),
        by: USERS.oncall,
      },
    ]);
    expect(run.refuse(ev.approve(at(2 * MINUTE))).message).toMatch(/already approved/);
    run.send(ev.approve(at(3 * MINUTE), USERS.oncall2));
    expect(run.state).toBe('authorized');
    expect(run.ctx.approvals.map((a) => a.user)).toEqual([USERS.oncall, USERS.oncall2]);
  });

  it('needs one approver in staging under the same policy', () => {
    const run = new RollbackDriver(rollbackInput({ policy: strictPolicy(), environment: 'staging' }));
    run.send(ev.approve(at(MINUTE)));
    expect(run.state).toBe('authorized');
  });

  it('refuses self-approval when the policy forbids it', () => {
    const run = new RollbackDriver(rollbackInput({ policy: strictPolicy() }));
    expect(run.refuse(ev.approve(at(MINUTE), USERS.declarer, ROLES.cto))).toMatchObject({
      code: 'unauthorized',
      message: expect.stringMatching(/forbids approving a rollback you declared/) as unknown,
    });
    const lenient = new RollbackDriver();
    lenient.send(ev.approve(at(MINUTE), USERS.declarer, ROLES.oncall));
    expect(lenient.state).toBe('authorized');
  });

  it('refuses an approval once the request has expired', () => {
    const run = new RollbackDriver();
    expect(run.refuse(ev.approve(at(120 * MINUTE), USERS.cto, ROLES.cto))).toMatchObject({
      code: 'unauthorized',
      message: expect.stringMatching(/expired 120 minutes after/) as unknown,
    });
  });
});

describe('escalation, reminders, expiry', () => {
  it('at minute 15 announces the team-lead tier (approver and notify role) and schedules the next', () => {
    const run = new RollbackDriver();
    const effects = run.fire('tier');
    expect(effects).toEqual([
      {
        kind: 'notify',
        event: 'escalated',
        at: at(15 * MINUTE),
        by: 'system',
        tier: {
          index: 1,
          approver: 'team-lead',
          notify: 'engineering-manager',
          since: at(15 * MINUTE),
          until: at(30 * MINUTE),
        },
      },
      { kind: 'scheduleTimer', timer: 'tier', dueAt: at(30 * MINUTE), seq: 4 },
    ]);
    expect(run.ctx.currentTier).toBe(1);
    run.fire('tier');
    expect(run.ctx.currentTier).toBe(2);
    const last = run.fire('tier');
    expect(notices(last)[0]).toMatchObject({
      tier: { index: 3, approver: 'vp-engineering', notify: 'cto', until: null },
    });
    expect(kinds(last)).toEqual(['notify:escalated']);
    expect(run.ctx.deadlines.tier).toBeUndefined();
  });

  it('uses the due time when the tier timer fires a little early (clock skew)', () => {
    const run = new RollbackDriver();
    run.fire('tier', at(15 * MINUTE - 50));
    expect(run.ctx.currentTier).toBe(1);
  });

  it('drops a tier timer that was replaced', () => {
    const run = new RollbackDriver();
    run.fire('tier');
    expect(run.refuse(ev.timer(at(15 * MINUTE), 'tier', 1))).toEqual({
      ok: false,
      code: 'stale',
      message: 'stale event: timer "tier" #1 was replaced by #4',
    });
  });

  it('reminds and reschedules the reminder', () => {
    const run = new RollbackDriver();
    const effects = run.fire('reminder');
    expect(notices(effects)[0]).toMatchObject({ event: 'reminder', approvals: { count: 0, required: 1 } });
    expect(effects[1]).toEqual({ kind: 'scheduleTimer', timer: 'reminder', dueAt: at(10 * MINUTE), seq: 4 });
  });

  it('expires into cancelled with the reason "approval expired"', () => {
    const run = new RollbackDriver();
    const effects = run.fire('expire');
    expect(run.state).toBe('cancelled');
    expect(run.ctx.outcome).toEqual({
      code: 'expired',
      reason: 'approval expired',
      by: 'system',
      at: at(120 * MINUTE),
    });
    expect(effects).toEqual([
      { kind: 'freeze', on: false },
      { kind: 'notify', event: 'expired', reason: 'approval expired', at: at(120 * MINUTE), by: 'system' },
    ]);
    expect(run.ctx.deadlines).toEqual({});
    expect(isFinal(run.snapshot)).toBe(true);
  });

  it('drops approval timers once the rollback is authorised', () => {
    const run = new RollbackDriver();
    run.send(ev.approve(at(MINUTE)));
    expect(run.refuse(ev.timer(at(15 * MINUTE), 'tier', 1)).code).toBe('stale');
    expect(run.refuse(ev.timer(at(120 * MINUTE), 'expire', 3)).message).toBe(
      'stale event: timer "expire" #3 is no longer scheduled',
    );
  });
});

describe('auto trigger', () => {
  const auto = { trigger: { kind: 'auto', delayMs: 30 * SECOND } } as const;

  it('waits in pending with a countdown, then is authorised by policy', () => {
    const run = new RollbackDriver(rollbackInput(auto));
    expect(run.state).toBe('pending');
    expect(run.effects).toEqual([
      { kind: 'notify', event: 'declared', autoStartAt: at(30 * SECOND), at: T0, by: USERS.declarer },
      { kind: 'scheduleTimer', timer: 'pending', dueAt: at(30 * SECOND), seq: 1 },
    ]);
    const effects = run.fire('pending');
    expect(run.state).toBe('authorized');
    expect(run.ctx.authorization).toEqual({ by: 'policy', at: at(30 * SECOND), via: 'policy' });
    expect(kinds(effects)).toEqual(['notify:authorized', 'freeze', 'runStep']);
    expect(run.ctx.approvals).toEqual([]);
  });

  it('starts at once on START_NOW by anyone with a policy role; the pending timer is then stale', () => {
    const run = new RollbackDriver(rollbackInput(auto));
    expect(run.refuse(ev.startNow(at(SECOND), USERS.outsider, ROLES.none)).message).toBe(
      'starting the rollback now needs a role in authority policy "default"; you hold none',
    );
    run.send(ev.startNow(at(SECOND)));
    expect(run.state).toBe('authorized');
    expect(run.refuse(ev.timer(at(30 * SECOND), 'pending', 1)).code).toBe('stale');
  });

  it('is cancelled from pending', () => {
    const run = new RollbackDriver(rollbackInput(auto));
    run.send(ev.cancel(at(10 * SECOND)));
    expect(run.state).toBe('cancelled');
    expect(run.ctx.outcome).toMatchObject({ code: 'cancelled', by: USERS.oncall });
  });

  it('waits for a human approval when the plan touches a database', () => {
    const strategy = standardStrategy({
      steps: [step('Back up', { kind: 'abort' }, 'postgres-backup'), step('Deploy')],
    });
    expect(strategyNeedsHuman(strategy)).toBe(true);
    const run = new RollbackDriver(rollbackInput({ ...auto, strategy, requiresHuman: true }));
    const effects = run.fire('pending');
    expect(run.state).toBe('declared');
    expect(kinds(effects)).toEqual([
      'notify:approval-requested',
      'scheduleTimer',
      'scheduleTimer',
      'scheduleTimer',
    ]);
    expect(run.ctx.approvalRequestedAt).toBe(at(30 * SECOND));
    expect(run.ctx.authorization).toBeNull();
    run.send(ev.approve(at(MINUTE)));
    expect(run.state).toBe('authorized');
  });

  it('also waits for a human after START_NOW when the plan needs one', () => {
    const run = new RollbackDriver(rollbackInput({ ...auto, requiresHuman: true }));
    run.send(ev.startNow(at(SECOND)));
    expect(run.state).toBe('declared');
  });
});

describe('paths to final states before execution', () => {
  it('rejected by someone ranking for the current tier', () => {
    const run = new RollbackDriver();
    expect(run.refuse(ev.reject(at(20 * MINUTE))).message).toBe(
      'needs team-lead or above since minute 15; you are on-call-engineer',
    );
    const effects = run.send(ev.reject(at(20 * MINUTE), USERS.lead, ROLES.lead));
    expect(run.state).toBe('rejected');
    expect(run.ctx.outcome).toEqual({
      code: 'rejected',
      reason: `rejected by ${USERS.lead}: not the right fix`,
      by: USERS.lead,
      at: at(20 * MINUTE),
    });
    expect(kinds(effects)).toEqual(['freeze', 'notify:rejected']);
  });

  it('cancelled while declared by anyone with a policy role', () => {
    const run = new RollbackDriver();
    expect(run.refuse(ev.cancel(at(1), USERS.outsider, ROLES.none)).code).toBe('unauthorized');
    const effects = run.send(ev.cancel(at(2)));
    expect(run.state).toBe('cancelled');
    expect(kinds(effects)).toEqual(['freeze', 'notify:cancelled']);
  });

  it('cancelled once authorised but before any step started', () => {
    const run = new RollbackDriver();
    run.send(ev.approve(at(1)));
    run.send(ev.cancel(at(2)));
    expect(run.state).toBe('cancelled');
  });

  it('aborted once authorised', () => {
    const run = new RollbackDriver();
    run.send(ev.approve(at(1)));
    run.send(ev.abort(at(2)));
    expect(run.state).toBe('aborted');
    expect(run.ctx.outcome?.reason).toBe(`aborted by ${USERS.oncall}: making it worse`);
  });
});

describe('RTO: the ETA passing', () => {
  const withRto = (rtoMs = 20 * MINUTE) => new RollbackDriver(rollbackInput({ rtoMs }));
  const rtoNotice = (effects: ReturnType<RollbackDriver['fire']>) =>
    notices(effects).find((n) => n.event === 'escalated');

  it('a plan without an RTO schedules no ETA', () => {
    const run = new RollbackDriver();
    expect(run.ctx.deadlines.rto).toBeUndefined();
    expect(run.ctx).not.toHaveProperty('rtoMs');
  });

  it('is a timer at the declaration plus the RTO, kept with the plan facts in the context', () => {
    const started = start(
      rollbackInput({
        rtoMs: 20 * MINUTE,
        owner: 'team-checkout',
        contacts: [{ name: 'Ana', slack: USERS.lead }],
        links: { runbook: 'https://wiki/rb' },
        incidentId: 'inc-1',
        severity: 'critical',
      }),
    );
    expect(started.effects).toContainEqual({
      kind: 'scheduleTimer',
      timer: 'rto',
      dueAt: at(20 * MINUTE),
      seq: 1,
    });
    expect(started.snapshot.context).toMatchObject({
      rtoMs: 20 * MINUTE,
      owner: 'team-checkout',
      contacts: [{ name: 'Ana', slack: USERS.lead }],
      links: { runbook: 'https://wiki/rb' },
      incidentId: 'inc-1',
      severity: 'critical',
    });
  });

  it('while awaiting approval: says so and pages the tier above the one in force, once', () => {
    const run = withRto();
    const effects = run.fire('rto');
    expect(effects).toEqual([
      {
        kind: 'notify',
        event: 'escalated',
        at: at(20 * MINUTE),
        by: 'system',
        // Minute 20 is team-lead's tier: the engineering manager is paged, the VP told.
        tier: {
          index: 2,
          approver: 'engineering-manager',
          notify: 'vp-engineering',
          since: at(30 * MINUTE),
          until: at(60 * MINUTE),
        },
        rto: { eta: at(20 * MINUTE), rtoMs: 20 * MINUTE },
      },
    ]);
    expect(run.state).toBe('declared');
    expect(run.ctx.deadlines.rto).toBeUndefined();
    // Who may approve is the authority matrix's, by the incident's age: unchanged.
    expect(run.ctx.currentTier).toBe(0);
    expect(run.ctx.deadlines.tier).toBeDefined();
  });

  it('while executing or stabilising: the same notice, the rollback goes on', () => {
    const executing = withRto(10 * MINUTE);
    executing.send(ev.approve(at(MINUTE)));
    executing.send(ev.started(at(2 * MINUTE), 0));
    expect(rtoNotice(executing.fire('rto'))).toMatchObject({ tier: { index: 1, approver: 'team-lead' } });
    expect(executing.path).toBe('executing.running');

    const stabilising = withRto(10 * MINUTE);
    stabilising.approveAndRunSteps(at(MINUTE));
    stabilising.ctx.checks.forEach((check, index) => {
      stabilising.send(
        check.kind === 'manual'
          ? ev.manualDone(at(3 * MINUTE), index)
          : ev.checkPassed(at(3 * MINUTE), index),
      );
    });
    expect(stabilising.path).toBe('validating.stabilizing');
    expect(rtoNotice(stabilising.fire('rto'))).toMatchObject({ rto: { eta: at(10 * MINUTE) } });
    expect(stabilising.path).toBe('validating.stabilizing');
  });

  it('pages the last tier again when none is above', () => {
    const run = withRto(90 * MINUTE);
    expect(rtoNotice(run.fire('rto'))?.tier).toMatchObject({ index: 3, approver: 'vp-engineering' });
  });

  it('a rollback that ended before its ETA never hears it', () => {
    const run = withRto(60 * MINUTE);
    const deadline = run.ctx.deadlines.rto!;
    run.resolve(at(MINUTE));
    expect(run.ctx.deadlines.rto).toBeUndefined();
    expect(run.refuse(ev.timer(deadline.dueAt, 'rto', deadline.seq))).toMatchObject({
      ok: false,
      code: 'stale',
    });
  });
});
