/**
 * The rollback statechart (DESIGN section 3). It is only ever driven through xstate's pure
 * `initialTransition`/`transition` (see `rollback-machine.ts`), so it has no delays (`after`) and
 * invokes nothing: time arrives on events, deadlines are absolute times in the context, and side
 * effects leave as custom `effect` actions that the engine persists and carries out.
 */
import { and, enqueueActions, setup } from 'xstate';
import { Draft, EFFECT_ACTION } from './rollback-effects.js';
import type { EventOf, RollbackEvent, RollbackEventType } from './rollback-events.js';
import {
  refuseApproval,
  refuseCheckResult,
  refuseManualDone,
  refuseNoRole,
  refuseRank,
  refuseStepDecision,
  refuseStepInterrupt,
  refuseStepResult,
  refuseStepStart,
  refuseTimer,
  refuseUnknownCheck,
  refuseContinue,
  refuseWatchSample,
  approvalDecision,
} from './rollback-rules.js';
import type { Effect, RollbackContext, RollbackInput, TimerName } from './rollback-types.js';
import * as life from './rollback-lifecycle.js';
import * as run from './rollback-execution.js';
import * as stable from './rollback-stabilization.js';
import * as watch from './rollback-watch.js';
import * as after from './rollback-after.js';

type EffectAction = { type: typeof EFFECT_ACTION; params: Effect };

/** An action that applies `update` to a draft, then assigns the context and emits the effects. */
function act(update: (draft: Draft, event: RollbackEvent) => void) {
  return enqueueActions<RollbackContext, RollbackEvent, undefined, RollbackEvent, never, EffectAction, never>(
    ({ context, event, enqueue }) => {
      const draft = Draft.of(context, event);
      update(draft, event);
      enqueue.assign(draft.context);
      for (const effect of draft.effects) enqueue({ type: EFFECT_ACTION, params: effect });
    },
  );
}

/** The same, for a transition taken on one event type (its guard has already checked the type). */
function on<T extends RollbackEventType>(type: T, update: (draft: Draft, event: EventOf<T>) => void) {
  return act((draft, event) => {
    if (event.type === type) update(draft, event as EventOf<T>);
  });
}

const is = <T extends RollbackEventType>(event: RollbackEvent, type: T): event is EventOf<T> =>
  event.type === type;

const timerDue = (timer: TimerName) => ({ type: 'timerDue', params: { timer } }) as const;
const failureIs = (route: 'abort' | 'retry' | 'ask') => ({ type: 'failureIs', params: { route } }) as const;

/** Until it ends, a rollback keeps up with its service's alerts (stabilisation is judged on them). */
const keepingUpWithAlerts = { ALERTS_FIRING: { actions: 'recordAlerts' } } as const;

/** Until it ends, the ETA passing pages the next tier (once). */
const rtoPassed = { guard: timerDue('rto'), actions: 'passRto' } as const;

const whileRunning = {
  ...keepingUpWithAlerts,
  TIMER: [{ guard: timerDue('update'), actions: 'statusUpdate' }, rtoPassed],
  ABORT: { guard: 'hasRole', target: '#rollback.aborted', actions: 'abortRollback' },
} as const;

/** While steps run (authorized, executing): the periodic update, and the watched metrics. */
const whileExecuting = {
  ...whileRunning,
  TIMER: [
    { guard: timerDue('update'), actions: 'statusUpdate' },
    { guard: timerDue('watch'), actions: 'sampleWatches' },
    rtoPassed,
  ],
  WATCH_SAMPLED: { guard: 'sampleIsCurrent', actions: 'recordSample' },
  // Answered while a step still runs: the hold is lifted before it matters.
  CONTINUE: { guard: 'mayContinue', actions: 'releaseHold' },
} as const;

/** While steps after resolution are left (not in `resolved.done`, which takes nothing). */
const whileFollowingUp = {
  SUPERSEDED: { guard: 'supersededByAnother', target: 'done', actions: 'cancelAfterSteps' },
} as const;

export const rollbackMachine = setup({
  types: { context: {} as RollbackContext, events: {} as RollbackEvent, input: {} as RollbackInput },
  actions: {
    // Never run here: transition() returns it with its params, and the engine carries it out.
    [EFFECT_ACTION]: (_: unknown, _effect: Effect) => undefined,
    announceDeclared: act(life.announceDeclared),
    scheduleRto: act(life.scheduleRto),
    passRto: act(life.passRto),
    schedulePendingStart: act(life.schedulePendingStart),
    clearPendingTimer: act((d) => {
      d.clearTimers(['pending']);
    }),
    requestApproval: act(life.requestApproval),
    clearApprovalTimers: act(life.clearApprovalTimers),
    recordApproval: on('APPROVE', life.recordApproval),
    recordResolution: on('TARGETS_RESOLVED', life.recordResolution),
    authorizeByPolicy: act(life.authorizeByPolicy),
    escalate: act(life.escalate),
    remind: act(life.remind),
    rejectRollback: on('REJECT', life.rejectRollback),
    cancelBeforeExecution: on('CANCEL', life.cancelBeforeExecution),
    cancelAfterExecutionBegan: on('CANCEL', life.cancelAfterExecutionBegan),
    abortRollback: on('ABORT', life.abortRollback),
    expireApproval: act(life.expireApproval),
    resolveRollback: act(life.resolveRollback),
    announceOutcome: act(life.announceOutcome),
    beginExecution: act((d) => {
      run.beginExecution(d);
      watch.startWatching(d);
    }),
    sampleWatches: act(watch.sampleWatches),
    recordSample: on('WATCH_SAMPLED', watch.recordSample),
    releaseHold: act(watch.releaseHold),
    continueAfterHold: act((d) => {
      watch.releaseHold(d);
      run.advance(d);
    }),
    completeStepHeld: on('STEP_SUCCEEDED', run.completeStepWithoutAdvancing),
    statusUpdate: act(run.statusUpdate),
    markStepStarted: on('STEP_STARTED', run.markStepStarted),
    completeStep: on('STEP_SUCCEEDED', run.completeStep),
    failStep: on('STEP_FAILED', run.failStep),
    markInterrupted: on('STEP_INTERRUPTED', run.markInterrupted),
    retryStep: act(run.retryStep),
    skipStep: on('SKIP_STEP', run.skipStep),
    startValidation: act((d) => {
      watch.stopWatching(d);
      run.startValidation(d);
    }),
    recordCheck: act((d, e) => {
      if (is(e, 'CHECK_PASSED') || is(e, 'CHECK_FAILED') || is(e, 'CHECK_INCONCLUSIVE'))
        run.recordCheck(d, e);
    }),
    recordManualDone: on('MANUAL_DONE', run.recordManualDone),
    validationPassed: act(run.validationPassed),
    revalidate: act(run.revalidate),
    acceptValidation: on('ACCEPT', run.acceptValidation),
    startStabilizing: act(stable.startStabilizing),
    clearStabilizeTimers: act(stable.clearStabilizeTimers),
    probeChecks: act(stable.probeChecks),
    markWindowOver: act(stable.markWindowOver),
    recordRound: act((d, e) => {
      if (is(e, 'CHECK_PASSED') || is(e, 'CHECK_FAILED') || is(e, 'CHECK_INCONCLUSIVE'))
        stable.recordRound(d, e);
    }),
    checkEndedWindow: act((d, e) => {
      if (is(e, 'CHECK_PASSED') || is(e, 'CHECK_FAILED') || is(e, 'CHECK_INCONCLUSIVE'))
        stable.checkEndedWindow(d, e);
    }),
    alertEndedWindow: on('ALERTS_FIRING', stable.alertEndedWindow),
    alertStillFiring: act(stable.alertStillFiring),
    recordAlerts: on('ALERTS_FIRING', stable.recordAlerts),
    planAfterSteps: act(after.planAfterSteps),
    scheduleNextAfterStep: act(after.scheduleNextAfterStep),
    clearAfterTimer: act(after.clearAfterTimer),
    runAfterStep: act(after.runAfterStep),
    markAfterStepStarted: on('AFTER_STEP_STARTED', after.markAfterStepStarted),
    completeAfterStep: on('AFTER_STEP_SUCCEEDED', after.completeAfterStep),
    failAfterStep: on('AFTER_STEP_FAILED', after.failAfterStep),
    interruptAfterStep: on('AFTER_STEP_INTERRUPTED', after.interruptAfterStep),
    cancelAfterSteps: on('SUPERSEDED', after.cancelAfterSteps),
  },
  guards: {
    isAutoTrigger: ({ context }) => context.trigger.kind === 'auto',
    needsHuman: ({ context }) => context.requiresHuman,
    // No step left to run: none in the plan, or every one left was skipped by its `when`.
    executionOver: ({ context }) => context.currentStep >= context.steps.length,
    mayApprove: ({ context, event }) => is(event, 'APPROVE') && !refuseApproval(context, event),
    approvalCompletes: ({ context, event }) => {
      if (!is(event, 'APPROVE')) return false;
      const decision = approvalDecision(context, event);
      return decision.ok && decision.complete;
    },
    hasRank: ({ context, event }) =>
      (is(event, 'REJECT') || is(event, 'ACCEPT')) && !refuseRank(context, event),
    hasRole: ({ context, event }) => 'roles' in event && !refuseNoRole(context, event),
    timerDue: ({ context, event }, params: { timer: TimerName }) =>
      is(event, 'TIMER') && !refuseTimer(context, event, params.timer),
    stepStartIsCurrent: ({ context, event }) => is(event, 'STEP_STARTED') && !refuseStepStart(context, event),
    stepResultIsCurrent: ({ context, event }) =>
      (is(event, 'STEP_SUCCEEDED') || is(event, 'STEP_FAILED')) && !refuseStepResult(context, event),
    stepInterruptIsCurrent: ({ context, event }) =>
      is(event, 'STEP_INTERRUPTED') && !refuseStepInterrupt(context, event),
    failureIs: ({ context, event }, params: { route: 'abort' | 'retry' | 'ask' }) =>
      run.failureRoute(context, is(event, 'STEP_FAILED') && event.conflict === true) === params.route,
    hasStepAfterCurrent: ({ context }) => context.currentStep + 1 < context.steps.length,
    stepDecisionAllowed: ({ context, event }) =>
      (is(event, 'RETRY_STEP') || is(event, 'SKIP_STEP')) && !refuseStepDecision(context, event),
    checkResultIsCurrent: ({ context, event }) =>
      (is(event, 'CHECK_PASSED') || is(event, 'CHECK_FAILED') || is(event, 'CHECK_INCONCLUSIVE')) &&
      !refuseCheckResult(context, event),
    checkIsKnown: ({ context, event }) => is(event, 'CHECK_FAILED') && !refuseUnknownCheck(context, event),
    manualDoneAllowed: ({ context, event }) => is(event, 'MANUAL_DONE') && !refuseManualDone(context, event),
    allChecksSucceeded: ({ context }) => run.allChecksSucceeded(context),
    noStabilization: ({ context }) => context.strategy.stabilizeMs <= 0,
    sampleIsCurrent: ({ context, event }) => is(event, 'WATCH_SAMPLED') && !refuseWatchSample(context, event),
    mayContinue: ({ context, event }) => is(event, 'CONTINUE') && !refuseContinue(context, event),
    watchHolds: ({ context }) => watch.watchHolds(context),
    noCheckRunning: ({ context }) => !stable.checksRunning(context),
    windowDone: ({ context }) => stable.windowDone(context),
    alertsStillFiring: ({ context }) => stable.alertsStillFiring(context),
    newAlertFiring: ({ context, event }) =>
      is(event, 'ALERTS_FIRING') && stable.newlyFiring(context, event) !== undefined,
    resultEndsWindow: ({ context, event }) =>
      (is(event, 'CHECK_PASSED') || is(event, 'CHECK_FAILED') || is(event, 'CHECK_INCONCLUSIVE')) &&
      stable.resultEndsWindow(context, event),
    afterStepsOver: ({ context }) => after.afterStepsOver(context),
    afterReportIsCurrent: ({ context, event }) =>
      (is(event, 'AFTER_STEP_STARTED') ||
        is(event, 'AFTER_STEP_SUCCEEDED') ||
        is(event, 'AFTER_STEP_FAILED') ||
        is(event, 'AFTER_STEP_INTERRUPTED')) &&
      !after.refuseAfterReport(context, event),
    supersededByAnother: ({ context, event }) =>
      is(event, 'SUPERSEDED') && !after.refuseSuperseded(context, event),
  },
}).createMachine({
  id: 'rollback',
  context: ({ input }) => life.initialContext(input),
  // `intake` is transient: it announces the declaration and routes at once, so no snapshot rests in it.
  initial: 'intake',
  states: {
    intake: {
      entry: ['announceDeclared', 'scheduleRto'],
      always: [{ guard: 'isAutoTrigger', target: 'pending' }, { target: 'declared' }],
    },
    pending: {
      entry: 'schedulePendingStart',
      exit: 'clearPendingTimer',
      on: {
        ...keepingUpWithAlerts,
        START_NOW: [
          { guard: and(['hasRole', 'needsHuman']), target: 'declared' },
          { guard: 'hasRole', target: 'authorized', actions: 'authorizeByPolicy' },
        ],
        TIMER: [
          { guard: and([timerDue('pending'), 'needsHuman']), target: 'declared' },
          { guard: timerDue('pending'), target: 'authorized', actions: 'authorizeByPolicy' },
          rtoPassed,
        ],
        CANCEL: { guard: 'hasRole', target: 'cancelled', actions: 'cancelBeforeExecution' },
        TARGETS_RESOLVED: { actions: 'recordResolution' },
      },
    },
    declared: {
      entry: 'requestApproval',
      exit: 'clearApprovalTimers',
      on: {
        ...keepingUpWithAlerts,
        APPROVE: [
          {
            guard: and(['mayApprove', 'approvalCompletes']),
            target: 'authorized',
            actions: 'recordApproval',
          },
          { guard: 'mayApprove', actions: 'recordApproval' },
        ],
        REJECT: { guard: 'hasRank', target: 'rejected', actions: 'rejectRollback' },
        CANCEL: { guard: 'hasRole', target: 'cancelled', actions: 'cancelBeforeExecution' },
        TARGETS_RESOLVED: { actions: 'recordResolution' },
        TIMER: [
          { guard: timerDue('tier'), actions: 'escalate' },
          { guard: timerDue('reminder'), actions: 'remind' },
          { guard: timerDue('expire'), target: 'cancelled', actions: 'expireApproval' },
          rtoPassed,
        ],
      },
    },
    authorized: {
      entry: 'beginExecution',
      always: { guard: 'executionOver', target: 'validating' },
      on: {
        ...whileExecuting,
        STEP_STARTED: {
          guard: 'stepStartIsCurrent',
          target: 'executing.running',
          actions: 'markStepStarted',
        },
        STEP_INTERRUPTED: {
          guard: 'stepInterruptIsCurrent',
          target: 'executing.awaitingDecision',
          actions: 'markInterrupted',
        },
        CANCEL: { guard: 'hasRole', target: 'cancelled', actions: 'cancelBeforeExecution' },
      },
    },
    executing: {
      initial: 'queued',
      on: {
        ...whileExecuting,
        CANCEL: { guard: 'hasRole', target: 'aborted', actions: 'cancelAfterExecutionBegan' },
      },
      states: {
        queued: {
          // The steps left were all skipped by their `when` on the way here: validate.
          always: { guard: 'executionOver', target: '#rollback.validating' },
          on: {
            STEP_STARTED: { guard: 'stepStartIsCurrent', target: 'running', actions: 'markStepStarted' },
            STEP_INTERRUPTED: {
              guard: 'stepInterruptIsCurrent',
              target: 'awaitingDecision',
              actions: 'markInterrupted',
            },
          },
        },
        running: {
          on: {
            STEP_SUCCEEDED: [
              {
                guard: and(['stepResultIsCurrent', 'hasStepAfterCurrent', 'watchHolds']),
                target: 'held',
                actions: 'completeStepHeld',
              },
              {
                guard: and(['stepResultIsCurrent', 'hasStepAfterCurrent']),
                target: 'queued',
                actions: 'completeStep',
              },
              { guard: 'stepResultIsCurrent', target: '#rollback.validating', actions: 'completeStep' },
            ],
            STEP_FAILED: [
              {
                guard: and(['stepResultIsCurrent', failureIs('abort')]),
                target: '#rollback.failed',
                actions: 'failStep',
              },
              {
                guard: and(['stepResultIsCurrent', failureIs('retry')]),
                target: 'queued',
                actions: 'failStep',
              },
              { guard: 'stepResultIsCurrent', target: 'awaitingDecision', actions: 'failStep' },
            ],
            STEP_INTERRUPTED: {
              guard: 'stepInterruptIsCurrent',
              target: 'awaitingDecision',
              actions: 'markInterrupted',
            },
          },
        },
        // A watched metric breached: the next step waits until someone says continue (or aborts).
        held: {
          on: {
            CONTINUE: { guard: 'mayContinue', target: 'queued', actions: 'continueAfterHold' },
          },
        },
        awaitingDecision: {
          on: {
            RETRY_STEP: { guard: 'stepDecisionAllowed', target: 'queued', actions: 'retryStep' },
            SKIP_STEP: [
              {
                guard: and(['stepDecisionAllowed', 'hasStepAfterCurrent']),
                target: 'queued',
                actions: 'skipStep',
              },
              { guard: 'stepDecisionAllowed', target: '#rollback.validating', actions: 'skipStep' },
            ],
          },
        },
      },
    },
    validating: {
      entry: 'startValidation',
      initial: 'checking',
      on: {
        ...whileRunning,
        CANCEL: { guard: 'hasRole', target: 'aborted', actions: 'cancelAfterExecutionBegan' },
      },
      states: {
        checking: {
          always: { guard: 'allChecksSucceeded', target: 'stabilizing', actions: 'validationPassed' },
          on: {
            CHECK_PASSED: { guard: 'checkResultIsCurrent', actions: 'recordCheck' },
            CHECK_FAILED: {
              guard: 'checkResultIsCurrent',
              target: 'awaitingDecision',
              actions: 'recordCheck',
            },
            CHECK_INCONCLUSIVE: {
              guard: 'checkResultIsCurrent',
              target: 'awaitingDecision',
              actions: 'recordCheck',
            },
            MANUAL_DONE: { guard: 'manualDoneAllowed', actions: 'recordManualDone' },
          },
        },
        awaitingDecision: {
          on: {
            CHECK_PASSED: { guard: 'checkResultIsCurrent', actions: 'recordCheck' },
            CHECK_FAILED: { guard: 'checkResultIsCurrent', actions: 'recordCheck' },
            CHECK_INCONCLUSIVE: { guard: 'checkResultIsCurrent', actions: 'recordCheck' },
            MANUAL_DONE: { guard: 'manualDoneAllowed', actions: 'recordManualDone' },
            RETRY_STEP: { guard: 'stepDecisionAllowed', target: 'checking', actions: 'revalidate' },
            ACCEPT: { guard: 'hasRank', target: 'stabilizing', actions: 'acceptValidation' },
          },
        },
        stabilizing: {
          entry: 'startStabilizing',
          exit: 'clearStabilizeTimers',
          always: [
            { guard: 'noStabilization', target: '#rollback.resolved', actions: 'resolveRollback' },
            {
              guard: and(['windowDone', 'alertsStillFiring']),
              target: 'awaitingDecision',
              actions: 'alertStillFiring',
            },
            { guard: 'windowDone', target: '#rollback.resolved', actions: 'resolveRollback' },
          ],
          on: {
            TIMER: [
              {
                guard: and([timerDue('stabilize'), 'noCheckRunning', 'alertsStillFiring']),
                target: 'awaitingDecision',
                actions: 'alertStillFiring',
              },
              {
                guard: and([timerDue('stabilize'), 'noCheckRunning']),
                target: '#rollback.resolved',
                actions: 'resolveRollback',
              },
              { guard: timerDue('stabilize'), actions: 'markWindowOver' },
              { guard: timerDue('probe'), actions: 'probeChecks' },
            ],
            CHECK_PASSED: { guard: 'checkResultIsCurrent', actions: 'recordRound' },
            CHECK_FAILED: [
              {
                guard: and(['checkResultIsCurrent', 'resultEndsWindow']),
                target: 'awaitingDecision',
                actions: 'checkEndedWindow',
              },
              { guard: 'checkResultIsCurrent', actions: 'recordRound' },
              // Reported from outside a round (the check is not running): it ends the window too.
              { guard: 'checkIsKnown', target: 'awaitingDecision', actions: 'checkEndedWindow' },
            ],
            CHECK_INCONCLUSIVE: {
              guard: 'checkResultIsCurrent',
              target: 'awaitingDecision',
              actions: 'checkEndedWindow',
            },
            ALERTS_FIRING: [
              { guard: 'newAlertFiring', target: 'awaitingDecision', actions: 'alertEndedWindow' },
              { actions: 'recordAlerts' },
            ],
          },
        },
      },
    },
    /**
     * Resolved, and final for everyone outside (`isFinal`: the engine releases the active lock, the
     * freeze is lifted, the duration is counted). The children only run the steps after
     * resolution: `waiting` for the next one's time, `queued`/`running` as in `executing`, and
     * `done` once none is left, or none was planned (then `waiting` passes straight through).
     */
    resolved: {
      entry: ['announceOutcome', 'planAfterSteps'],
      initial: 'waiting',
      states: {
        waiting: {
          entry: 'scheduleNextAfterStep',
          exit: 'clearAfterTimer',
          always: { guard: 'afterStepsOver', target: 'done' },
          on: {
            ...whileFollowingUp,
            TIMER: { guard: timerDue('after'), target: 'queued', actions: 'runAfterStep' },
          },
        },
        queued: {
          on: {
            ...whileFollowingUp,
            AFTER_STEP_STARTED: {
              guard: 'afterReportIsCurrent',
              target: 'running',
              actions: 'markAfterStepStarted',
            },
            AFTER_STEP_INTERRUPTED: {
              guard: 'afterReportIsCurrent',
              target: 'waiting',
              actions: 'interruptAfterStep',
            },
          },
        },
        running: {
          on: {
            ...whileFollowingUp,
            AFTER_STEP_SUCCEEDED: {
              guard: 'afterReportIsCurrent',
              target: 'waiting',
              actions: 'completeAfterStep',
            },
            AFTER_STEP_FAILED: { guard: 'afterReportIsCurrent', target: 'waiting', actions: 'failAfterStep' },
            AFTER_STEP_INTERRUPTED: {
              guard: 'afterReportIsCurrent',
              target: 'waiting',
              actions: 'interruptAfterStep',
            },
          },
        },
        done: { type: 'final' },
      },
    },
    rejected: { type: 'final', entry: 'announceOutcome' },
    cancelled: { type: 'final', entry: 'announceOutcome' },
    aborted: { type: 'final', entry: 'announceOutcome' },
    failed: { type: 'final', entry: 'announceOutcome' },
  },
});
