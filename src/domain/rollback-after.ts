/**
 * Steps after resolution (`strategy.after`, issue 14), as pure functions over a `Draft` and the
 * admission rules of their events.
 *
 * The rollback is resolved, and stays so: its public state is `resolved`, it is final for the
 * engine (its active lock is released, the freeze lifted, its duration counted), and yet, while an
 * after-step is left, it takes the few events that drive them: the `after` TIMER of the next one,
 * that step's AFTER_STEP_* reports, and SUPERSEDED when a new rollback of the same service and
 * environment is declared. Each after-step is due at the resolution time plus its delay; they run
 * in list order, one at a time, through the same executors and step lease as the steps.
 *
 * A failed (or interrupted) after-step is recorded and reported; the ones below it are skipped,
 * since a later clean-up may count on an earlier one (scale down, then delete). There is no retry
 * prompt: by then the service may be in a new rollback's hands, so a human decides what to run by
 * hand instead of a button re-running a clean-up on a world that moved on.
 */
import type { Draft } from './rollback-effects.js';
import type { EventOf } from './rollback-events.js';
import type { Refusal } from './rollback-rules.js';
import type { AfterStepState, RollbackContext } from './rollback-types.js';

const stale = (message: string): Refusal => ({ code: 'stale', message: `stale event: ${message}` });
const invalid = (message: string): Refusal => ({ code: 'invalid', message });

const afterSteps = (ctx: RollbackContext): AfterStepState[] => ctx.afterSteps ?? [];

function updateAfter(d: Draft, index: number, update: (step: AfterStepState) => AfterStepState): void {
  d.set({ afterSteps: afterSteps(d.context).map((step, i) => (i === index ? update(step) : step)) });
}

/** The after-step in progress or next to run: the first one still pending or running; -1: none. */
export function currentAfterStep(ctx: RollbackContext): number {
  return afterSteps(ctx).findIndex((step) => step.status === 'pending' || step.status === 'running');
}

/** Nothing is left to run after resolution (none planned, all done, or called off). */
export const afterStepsOver = (ctx: RollbackContext): boolean => currentAfterStep(ctx) === -1;

export function afterLabel(ctx: RollbackContext, index: number): string {
  const step = afterSteps(ctx)[index];
  return step ? `after-step ${index} ("${step.name}")` : `after-step ${index}`;
}

/**
 * Is this attempt of an after-step still wanted (asked for or running)? The step runner asks while
 * the step runs: the rollback is final all along, so "final" cannot tell it to stop.
 */
export function afterStepWanted(ctx: RollbackContext, index: number, attempt: number): boolean {
  const step = afterSteps(ctx)[index];
  return (
    step !== undefined &&
    step.attempts === attempt &&
    (step.status === 'running' || step.status === 'pending')
  );
}

// --- transitions -------------------------------------------------------------------------------

/**
 * Entry of `resolved`: plans the after-steps, each due at the resolution time plus its delay.
 * Nothing is planned for any other ending: those steps assume the rollback worked.
 */
export function planAfterSteps(d: Draft): void {
  const specs = d.context.strategy.after ?? [];
  if (specs.length === 0) return;
  const resolvedAt = d.context.outcome?.at ?? d.at;
  const planned = specs.map((spec): AfterStepState => ({
    name: spec.name,
    uses: spec.uses,
    status: 'pending',
    dueAt: resolvedAt + spec.delayMs,
    attempts: 0,
  }));
  d.set({ afterSteps: planned });
  d.notify({ event: 'after-steps-scheduled', dueAt: planned.map((step) => step.dueAt) });
}

/**
 * Entry of `resolved.waiting`: the `after` timer for the next after-step, at its due time (or at
 * once when the one above ran past it: they run in order).
 */
export function scheduleNextAfterStep(d: Draft): void {
  const index = currentAfterStep(d.context);
  const step = afterSteps(d.context)[index];
  if (step === undefined) {
    d.clearTimers(['after']);
    return;
  }
  d.schedule('after', Math.max(step.dueAt, d.at));
}

export function clearAfterTimer(d: Draft): void {
  d.clearTimers(['after']);
}

/** The `after` timer fired: the next after-step is asked to run through the step runner. */
export function runAfterStep(d: Draft): void {
  const index = currentAfterStep(d.context);
  if (index === -1) return;
  const attempt = afterSteps(d.context)[index]!.attempts + 1;
  d.clearTimers(['after']);
  updateAfter(d, index, (step) => ({ ...step, status: 'pending', attempts: attempt }));
  d.emit({ kind: 'runStep', stepIndex: index, attempt, phase: 'after' });
}

export function markAfterStepStarted(d: Draft, event: EventOf<'AFTER_STEP_STARTED'>): void {
  updateAfter(d, event.step, (step) => ({ ...step, status: 'running', startedAt: event.at }));
  d.notify({ event: 'after-step-started', afterIndex: event.step });
}

export function completeAfterStep(d: Draft, event: EventOf<'AFTER_STEP_SUCCEEDED'>): void {
  updateAfter(d, event.step, (step) => ({
    ...step,
    status: 'succeeded',
    endedAt: event.at,
    ...(event.output === undefined ? {} : { output: event.output }),
  }));
  d.notify({ event: 'after-step-succeeded', afterIndex: event.step });
}

/** The after-steps still pending below `index` will not run; returns how many. */
function skipRest(d: Draft, from: number, note: string): number {
  let skipped = 0;
  d.set({
    afterSteps: afterSteps(d.context).map((step, i) => {
      if (i < from || step.status !== 'pending') return step;
      skipped += 1;
      return { ...step, status: 'skipped', note };
    }),
  });
  return skipped;
}

export function failAfterStep(d: Draft, event: EventOf<'AFTER_STEP_FAILED'>): void {
  updateAfter(d, event.step, (step) => ({
    ...step,
    status: 'failed',
    endedAt: event.at,
    error: event.error,
  }));
  const skipped = skipRest(d, event.step + 1, `not run: "${afterSteps(d.context)[event.step]!.name}" failed`);
  d.notify({ event: 'after-step-failed', afterIndex: event.step, error: event.error, skipped });
}

/** The worker died mid-step: it is never re-run on its own, and what follows it is not run either. */
export function interruptAfterStep(d: Draft, event: EventOf<'AFTER_STEP_INTERRUPTED'>): void {
  updateAfter(d, event.step, (step) => ({
    ...step,
    status: 'interrupted',
    endedAt: event.at,
    note: 'the bot restarted while it ran; it was NOT re-run',
  }));
  const skipped = skipRest(
    d,
    event.step + 1,
    `not run: "${afterSteps(d.context)[event.step]!.name}" was interrupted`,
  );
  d.notify({ event: 'after-step-interrupted', afterIndex: event.step, skipped });
}

/**
 * A new rollback of the same service and environment: what this one planned after its resolution
 * (scaling the old colour down ...) may now undo the new one's work, so it is called off. A step
 * already asked for or running is interrupted and its executor told to stop.
 */
export function cancelAfterSteps(d: Draft, event: EventOf<'SUPERSEDED'>): void {
  const note = `called off: rollback ${event.rollbackId} of ${d.context.service} in ${d.context.environment} was declared`;
  const index = currentAfterStep(d.context);
  const step = afterSteps(d.context)[index];
  let interrupted: number | null = null;
  if (step && (step.status === 'running' || step.attempts > 0)) {
    interrupted = index;
    updateAfter(d, index, (s) => ({ ...s, status: 'interrupted', endedAt: d.at, note }));
    d.emit({ kind: 'cancelStep', stepIndex: index, attempt: step.attempts, phase: 'after' });
  }
  const skipped = skipRest(d, 0, note);
  d.clearTimers(['after']);
  d.notify({ event: 'after-steps-cancelled', supersededBy: event.rollbackId, interrupted, skipped });
}

// --- admission rules ---------------------------------------------------------------------------

type AfterReport = EventOf<
  'AFTER_STEP_STARTED' | 'AFTER_STEP_SUCCEEDED' | 'AFTER_STEP_FAILED' | 'AFTER_STEP_INTERRUPTED'
>;

/** A report must name the current after-step and its current attempt, in the status it expects. */
export function refuseAfterReport(ctx: RollbackContext, event: AfterReport): Refusal | null {
  const steps = afterSteps(ctx);
  if (event.step >= steps.length) {
    return invalid(
      `${event.type} names after-step ${event.step}; the plan has ${steps.length} after resolution`,
    );
  }
  const current = currentAfterStep(ctx);
  if (event.step !== current) {
    const now = current === -1 ? 'none is left to run' : `the current one is ${afterLabel(ctx, current)}`;
    return stale(`${event.type} for ${afterLabel(ctx, event.step)}, but ${now}`);
  }
  const step = steps[event.step]!;
  if (step.attempts === 0) return stale(`${afterLabel(ctx, event.step)} was not asked to run yet`);
  if (event.attempt !== undefined && event.attempt !== step.attempts) {
    return stale(
      `attempt ${event.attempt} of ${afterLabel(ctx, event.step)}, but attempt ${step.attempts} is the current one`,
    );
  }
  const expected =
    event.type === 'AFTER_STEP_STARTED'
      ? ['pending']
      : event.type === 'AFTER_STEP_INTERRUPTED'
        ? ['pending', 'running']
        : ['running'];
  return expected.includes(step.status)
    ? null
    : stale(`${afterLabel(ctx, event.step)} is ${step.status}, not ${expected.join(' or ')}`);
}

export function refuseSuperseded(ctx: RollbackContext, event: EventOf<'SUPERSEDED'>): Refusal | null {
  return event.rollbackId === ctx.id ? invalid('a rollback cannot supersede itself') : null;
}
