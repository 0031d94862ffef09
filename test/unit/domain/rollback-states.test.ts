/**
 * Every state x every event type, table-driven: a state takes exactly the events it should; any
 * other event is ignored (the snapshot is unchanged) and refused with a code and a message, never
 * thrown. Also: persistence round trips at every state.
 */
import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  type RollbackEvent,
  type RollbackEventType,
} from '../../../src/domain/rollback-events.js';
import {
  applyEvent,
  eventsAccepted,
  hasEnded,
  isFinal,
  persist,
  restore,
  stateName,
  statePath,
  type PersistedRollback,
} from '../../../src/domain/rollback-machine.js';
import type { RollbackContext } from '../../../src/domain/rollback-types.js';
import { STATE_NAMES } from '../../../src/domain/rollback-types.js';
import { currentAfterStep } from '../../../src/domain/rollback-after.js';
import {
  MINUTE,
  ROLES,
  SECOND,
  USERS,
  at,
  blueGreenWithAfter,
  rollbackInput,
  standardStrategy,
} from '../../support/domain-fixtures.js';
import { RollbackDriver, ev } from '../../support/rollback-driver.js';

const T = at(10 * MINUTE);

/** How to reach each resting state, from a fresh declaration. */
const REACH: Record<string, () => RollbackDriver> = {
  pending: () => new RollbackDriver(rollbackInput({ trigger: { kind: 'auto', delayMs: 30 * SECOND } })),
  declared: () => new RollbackDriver(),
  authorized: () => {
    const run = new RollbackDriver();
    run.send(ev.approve(at(MINUTE)));
    return run;
  },
  'executing.queued': () => {
    const run = REACH['executing.running']!();
    run.send(ev.succeeded(at(MINUTE + 2), 0));
    return run;
  },
  'executing.running': () => {
    const run = REACH.authorized!();
    run.send(ev.started(at(MINUTE + 1), 0));
    return run;
  },
  'executing.awaitingDecision': () => {
    const run = REACH['executing.running']!();
    run.send(ev.failed(at(MINUTE + 2), 0));
    return run;
  },
  // A watched metric breached during step 1: step 2 waits for Continue.
  'executing.held': () => {
    const watch = { name: '5xx ratio', uses: 'prometheus', with: {} };
    const run = new RollbackDriver(
      rollbackInput({ strategy: standardStrategy({ watch: { everyMs: 30 * SECOND, checks: [watch] } }) }),
    );
    run.send(ev.approve(at(MINUTE)));
    run.send(ev.started(at(MINUTE + 1), 0));
    run.fire('watch');
    run.send({
      type: 'WATCH_SAMPLED',
      at: at(2 * MINUTE),
      by: 'system',
      watch: 0,
      attempt: 1,
      status: 'breached',
    });
    run.send(ev.succeeded(at(2 * MINUTE + 1), 0));
    return run;
  },
  'validating.checking': () => {
    const run = new RollbackDriver();
    run.approveAndRunSteps(at(MINUTE));
    return run;
  },
  'validating.awaitingDecision': () => {
    const run = REACH['validating.checking']!();
    run.send(ev.checkFailed(at(2 * MINUTE), 0));
    return run;
  },
  'validating.stabilizing': () => {
    const run = REACH['validating.checking']!();
    run.send(ev.checkPassed(at(2 * MINUTE), 0));
    run.send(ev.manualDone(at(2 * MINUTE), 1));
    return run;
  },
  'resolved.done': () => {
    const run = REACH['validating.stabilizing']!();
    run.fire('stabilize');
    return run;
  },
  // With steps after resolution: waiting for the first one's time, asked to run it, running it.
  'resolved.waiting': () => {
    const run = new RollbackDriver(rollbackInput({ strategy: blueGreenWithAfter() }));
    run.resolve(at(MINUTE));
    return run;
  },
  'resolved.queued': () => {
    const run = REACH['resolved.waiting']!();
    run.fire('after');
    return run;
  },
  'resolved.running': () => {
    const run = REACH['resolved.queued']!();
    run.send(ev.afterStarted(run.ctx.afterSteps![0]!.dueAt, 0));
    return run;
  },
  rejected: () => {
    const run = new RollbackDriver();
    run.send(ev.reject(at(MINUTE)));
    return run;
  },
  cancelled: () => {
    const run = new RollbackDriver();
    run.send(ev.cancel(at(MINUTE)));
    return run;
  },
  aborted: () => {
    const run = REACH['executing.running']!();
    run.send(ev.abort(at(MINUTE + 2)));
    return run;
  },
  failed: () => {
    const run = new RollbackDriver(
      rollbackInput({
        strategy: {
          ...rollbackInput().strategy,
          steps: [{ name: 'Only', uses: 'http', with: {}, onFailure: { kind: 'abort' }, database: false }],
        },
      }),
    );
    run.send(ev.approve(at(MINUTE)));
    run.send(ev.started(at(MINUTE + 1), 0));
    run.send(ev.failed(at(MINUTE + 2), 0));
    return run;
  },
};

/** A well-formed, authorised event of each type, aimed at what the state is currently doing. */
function representative(type: RollbackEventType, ctx: RollbackContext): RollbackEvent {
  const step = Math.min(ctx.currentStep, ctx.steps.length - 1);
  const afterIndex = Math.max(0, currentAfterStep(ctx));
  const afterAttempt = Math.max(1, ctx.afterSteps?.[afterIndex]?.attempts ?? 1);
  const deadline = Object.entries(ctx.deadlines)[0];
  switch (type) {
    case 'APPROVE':
      return ev.approve(T, USERS.oncall2);
    case 'REJECT':
      return ev.reject(T, USERS.cto, ROLES.cto);
    case 'CANCEL':
      return ev.cancel(T);
    case 'START_NOW':
      return ev.startNow(T);
    case 'STEP_STARTED':
      return ev.started(T, step, Math.max(1, ctx.steps[step]!.attempts));
    case 'STEP_SUCCEEDED':
      return ev.succeeded(T, step);
    case 'STEP_FAILED':
      return ev.failed(T, step);
    case 'STEP_INTERRUPTED':
      return ev.interrupted(T, step);
    case 'RETRY_STEP':
      return ev.retry(T);
    case 'SKIP_STEP':
      return ev.skip(T, step);
    case 'ABORT':
      return ev.abort(T);
    case 'CHECK_PASSED':
      return ev.checkPassed(T, 0);
    case 'CHECK_FAILED':
      return ev.checkFailed(T, 0);
    case 'CHECK_INCONCLUSIVE':
      return ev.checkInconclusive(T, 0);
    case 'MANUAL_DONE':
      return ev.manualDone(T, 1);
    case 'ACCEPT':
      return ev.accept(T, USERS.cto, ROLES.cto);
    case 'TIMER':
      return deadline
        ? ev.timer(Math.max(T, deadline[1].dueAt), deadline[0] as 'tier', deadline[1].seq)
        : ev.timer(T, 'tier', 999);
    case 'TARGETS_RESOLVED':
      return { type, at: T, by: 'system', resolution: { at: T, digest: 'd2', asked: null, steps: [] } };
    case 'CONTINUE':
      return { type, at: T, by: USERS.oncall, roles: ROLES.oncall };
    case 'WATCH_SAMPLED':
      return { type, at: T, by: 'system', watch: 0, attempt: 1, status: 'breached', detail: '5xx 7%' };
    case 'ALERTS_FIRING':
      return { type, at: T, by: 'alerts', alerts: [{ fingerprint: 'fp-1', name: 'CheckoutHighErrorRate' }] };
    case 'AFTER_STEP_STARTED':
      return ev.afterStarted(T, afterIndex, afterAttempt);
    case 'AFTER_STEP_SUCCEEDED':
      return ev.afterSucceeded(T, afterIndex);
    case 'AFTER_STEP_FAILED':
      return ev.afterFailed(T, afterIndex);
    case 'AFTER_STEP_INTERRUPTED':
      return ev.afterInterrupted(T, afterIndex);
    case 'SUPERSEDED':
      return ev.superseded(T);
  }
}

/** The representative events each state takes; everything else must be refused. */
const ACCEPTS: Record<string, RollbackEventType[]> = {
  pending: ['CANCEL', 'START_NOW', 'TIMER', 'TARGETS_RESOLVED', 'ALERTS_FIRING'],
  declared: ['APPROVE', 'REJECT', 'CANCEL', 'TIMER', 'TARGETS_RESOLVED', 'ALERTS_FIRING'],
  authorized: ['CANCEL', 'STEP_STARTED', 'STEP_INTERRUPTED', 'ABORT', 'ALERTS_FIRING'],
  'executing.queued': ['CANCEL', 'STEP_STARTED', 'STEP_INTERRUPTED', 'ABORT', 'ALERTS_FIRING'],
  'executing.running': [
    'CANCEL',
    'STEP_SUCCEEDED',
    'STEP_FAILED',
    'STEP_INTERRUPTED',
    'ABORT',
    'ALERTS_FIRING',
  ],
  'executing.awaitingDecision': ['CANCEL', 'RETRY_STEP', 'SKIP_STEP', 'ABORT', 'ALERTS_FIRING'],
  'executing.held': ['CANCEL', 'ABORT', 'CONTINUE', 'TIMER', 'ALERTS_FIRING'],
  'validating.checking': [
    'CANCEL',
    'ABORT',
    'CHECK_PASSED',
    'CHECK_FAILED',
    'CHECK_INCONCLUSIVE',
    'MANUAL_DONE',
    'ALERTS_FIRING',
  ],
  'validating.awaitingDecision': ['CANCEL', 'RETRY_STEP', 'ABORT', 'MANUAL_DONE', 'ACCEPT', 'ALERTS_FIRING'],
  'validating.stabilizing': ['CANCEL', 'ABORT', 'CHECK_FAILED', 'TIMER', 'ALERTS_FIRING'],
  'resolved.waiting': ['TIMER', 'SUPERSEDED'],
  'resolved.queued': ['AFTER_STEP_STARTED', 'AFTER_STEP_INTERRUPTED', 'SUPERSEDED'],
  'resolved.running': ['AFTER_STEP_SUCCEEDED', 'AFTER_STEP_FAILED', 'AFTER_STEP_INTERRUPTED', 'SUPERSEDED'],
  'resolved.done': [],
  rejected: [],
  cancelled: [],
  aborted: [],
  failed: [],
};

const PATHS = Object.keys(REACH);

describe('every state x every event', () => {
  it('covers every state name', () => {
    expect(new Set(PATHS.map((p) => p.split('.')[0]))).toEqual(new Set(STATE_NAMES));
  });

  describe.each(PATHS)('%s', (path) => {
    it.each(EVENT_TYPES)('%s', (type) => {
      const run = REACH[path]!();
      expect(run.path).toBe(path);
      const before = run.snapshot;
      const event = representative(type, before.context);
      const result = applyEvent(before, event);
      expect(result.ok, result.ok ? '' : result.message).toBe(ACCEPTS[path]!.includes(type));
      if (result.ok) {
        expect(STATE_NAMES).toContain(result.state);
        expect(result.persisted).toEqual(JSON.parse(JSON.stringify(result.persisted)));
        return;
      }
      // Ignored: nothing changed, and the message says why.
      expect(run.snapshot).toBe(before);
      expect(result.message.length).toBeGreaterThan(10);
      if (isFinal(before) && !eventsAccepted(before).includes(type)) {
        // Ended for everyone outside; a resolved one only still takes what drives its after-steps.
        expect(result.message).toBe(`${type} is not accepted: the rollback has ended (${stateName(before)})`);
      } else if (!eventsAccepted(before).includes(type) && !/^(STEP|CHECK)_|TIMER/.test(type)) {
        expect(result).toMatchObject({ code: 'not_accepted' });
        expect(result.message).toMatch(
          new RegExp(`^${type} is not accepted while the rollback is ${stateName(before)}`),
        );
      }
    });

    it('refuses malformed events of every type as malformed', () => {
      const run = REACH[path]!();
      for (const type of EVENT_TYPES) {
        const result = applyEvent(run.snapshot, { type, at: 'soon' });
        expect(result).toMatchObject({ ok: false, code: 'malformed' });
      }
      for (const junk of [null, 42, 'APPROVE', {}, { type: 'EXPLODE', at: 1, by: 'U1' }]) {
        expect(applyEvent(run.snapshot, junk)).toMatchObject({ ok: false, code: 'malformed' });
      }
    });
  });

  it('names the substate in refusals', () => {
    const run = REACH['executing.running']!();
    expect(run.refuse(ev.approve(T)).message).toBe(
      'APPROVE is not accepted while the rollback is executing (step 0 ("Check the standby environment") is running)',
    );
  });
});

describe('persistence round trip', () => {
  const roundTrip = (persisted: PersistedRollback): PersistedRollback =>
    JSON.parse(JSON.stringify(persisted)) as PersistedRollback;

  it.each(PATHS)('%s: restored from JSON, every event gives the same result', (path) => {
    const run = REACH[path]!();
    const stored = roundTrip(persist(run.snapshot));
    const restored = restore(stored);
    expect(statePath(restored)).toBe(path);
    expect(restored.status).toBe(run.snapshot.status);
    expect(restored.context).toEqual(run.snapshot.context);
    for (const type of EVENT_TYPES) {
      const event = representative(type, run.ctx);
      const live = applyEvent(run.snapshot, event);
      const fromJson = applyEvent(stored, event);
      expect(fromJson.ok).toBe(live.ok);
      if (live.ok && fromJson.ok) {
        expect(fromJson.effects).toEqual(live.effects);
        expect(roundTrip(fromJson.persisted)).toEqual(roundTrip(live.persisted));
      } else {
        expect(fromJson).toEqual(live);
      }
    }
  });

  it('a whole rollback driven through JSON at every step ends where the live one does', () => {
    const live = new RollbackDriver();
    let stored = roundTrip(persist(live.snapshot));
    const events: RollbackEvent[] = [
      ev.timer(at(5 * MINUTE), 'reminder', 2),
      ev.approve(at(6 * MINUTE)),
      ev.started(at(7 * MINUTE), 0),
      ev.interrupted(at(8 * MINUTE), 0),
      ev.retry(at(9 * MINUTE)),
      ev.started(at(10 * MINUTE), 0, 2),
      ev.succeeded(at(11 * MINUTE), 0),
      ev.started(at(12 * MINUTE), 1),
      ev.succeeded(at(13 * MINUTE), 1),
      ev.checkPassed(at(14 * MINUTE), 0),
      ev.manualDone(at(15 * MINUTE), 1),
      ev.timer(at(20 * MINUTE), 'stabilize', 5),
    ];
    for (const event of events) {
      live.send(event);
      const result = applyEvent(stored, event);
      if (!result.ok) expect.fail(result.message);
      expect(result.effects).toEqual(live.effects);
      stored = roundTrip(result.persisted);
    }
    expect(live.state).toBe('resolved');
    expect(stored.value).toEqual({ resolved: 'done' });
    expect(hasEnded(stored)).toBe(true);
    expect(stored.context).toEqual(roundTrip(persist(live.snapshot)).context);
  });
});

describe('rollbacks stored before steps after resolution existed', () => {
  it('restore a leaf `resolved` as resolved.done, which takes nothing', () => {
    const run = REACH['resolved.done']!();
    const old = { ...persist(run.snapshot), value: 'resolved', status: 'done' as const };
    const restored = restore(old);
    expect(statePath(restored)).toBe('resolved.done');
    expect(hasEnded(restored)).toBe(true);
    for (const type of EVENT_TYPES) {
      expect(applyEvent(old, representative(type, run.ctx))).toMatchObject({
        ok: false,
        message: `${type} is not accepted: the rollback has ended (resolved)`,
      });
    }
  });
});
