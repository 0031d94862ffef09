/**
 * What the transitions of execution and validation do, as pure functions over a `Draft`.
 * Guards have already admitted the event when these run (see `rollback-rules.ts`).
 */
import { checkRank } from './authority.js';
import type { EventOf } from './rollback-events.js';
import { stepLabel } from './rollback-rules.js';
import type { Draft } from './rollback-effects.js';
import type { Choice, RollbackContext } from './rollback-types.js';
import { finish } from './rollback-lifecycle.js';
import { evaluateCondition } from './step-condition.js';
import { templateVarsFor } from './template-vars.js';

const STEP_CHOICES: Choice[] = ['retry', 'skip', 'abort'];
const VALIDATION_CHOICES: Choice[] = ['revalidate', 'accept', 'abort'];

// --- execution ---------------------------------------------------------------------------------

export function beginExecution(d: Draft): void {
  const ctx = d.context;
  d.notify({ event: 'authorized', via: ctx.authorization?.via ?? 'policy' });
  d.emit({ kind: 'freeze', on: true });
  if (ctx.updateEveryMs > 0) d.schedule('update', d.at + ctx.updateEveryMs);
  runFrom(d, 0);
}

export function statusUpdate(d: Draft): void {
  d.notify({ event: 'status-update' });
  d.schedule('update', d.at + d.context.updateEveryMs);
}

export function markStepStarted(d: Draft, event: EventOf<'STEP_STARTED'>): void {
  d.updateStep(event.step, (step) => ({
    ...step,
    status: 'running',
    startedAt: event.at,
    // The first recorded target stays: later attempts converge on it, never on a new choice.
    ...(step.target === undefined && event.target !== undefined ? { target: event.target } : {}),
  }));
  d.notify({ event: 'step-started', stepIndex: event.step, attempt: event.attempt });
}

/** Why the step's `when` keeps it from running now, or null when it runs (no `when`, or it holds). */
function conditionAgainst(ctx: RollbackContext, index: number): { condition: string; why: string } | null {
  const condition = ctx.strategy.steps[index]?.when;
  if (condition === undefined) return null;
  const result = evaluateCondition(condition, templateVarsFor(ctx));
  return result.holds ? null : { condition: condition.text, why: result.why };
}

/**
 * Runs the first step, from `index` on, whose `when` holds, skipping the others on the way; with none
 * left, `currentStep` goes past the end (the statechart then validates). A `when` is judged here,
 * as the step is reached, because the outputs it reads only exist once the earlier steps ran.
 */
function runFrom(d: Draft, index: number): void {
  for (let next = index; next < d.context.steps.length; next++) {
    const against = conditionAgainst(d.context, next);
    if (against === null) {
      d.runStep(next);
      return;
    }
    d.updateStep(next, (step) => ({
      ...step,
      status: 'skipped',
      endedAt: d.at,
      skippedBy: 'condition',
      skipReason: against.why,
    }));
    d.notify({ event: 'step-skipped', stepIndex: next, ...against });
  }
  d.set({ currentStep: d.context.steps.length });
}

/** Moves past the current step: the next one whose `when` holds runs, or execution is over. */
export function advance(d: Draft): void {
  runFrom(d, d.context.currentStep + 1);
}

export function completeStep(d: Draft, event: EventOf<'STEP_SUCCEEDED'>): void {
  completeStepWithoutAdvancing(d, event);
  advance(d);
}

/** The step succeeded; the next waits (a breached watch holds it). */
export function completeStepWithoutAdvancing(d: Draft, event: EventOf<'STEP_SUCCEEDED'>): void {
  const attempt = d.context.steps[event.step]!.attempts;
  d.updateStep(event.step, (step) => ({
    ...step,
    status: 'succeeded',
    endedAt: event.at,
    ...(event.output === undefined ? {} : { output: event.output }),
  }));
  d.notify({ event: 'step-succeeded', stepIndex: event.step, attempt });
}

/** What the plan's `onFailure` says after this failure: `retry N` retries while attempts <= N. */
export function failureRoute(ctx: RollbackContext, conflict = false): 'abort' | 'retry' | 'ask' {
  if (conflict) return 'ask';
  const step = ctx.steps[ctx.currentStep];
  const onFailure = ctx.strategy.steps[ctx.currentStep]?.onFailure;
  if (!step || !onFailure) return 'ask';
  if (onFailure.kind === 'retry') return step.attempts <= onFailure.times ? 'retry' : 'ask';
  return onFailure.kind;
}

export function failStep(d: Draft, event: EventOf<'STEP_FAILED'>): void {
  const route = failureRoute(d.context, event.conflict === true);
  const attempt = d.context.steps[event.step]!.attempts;
  d.updateStep(event.step, (step) => ({ ...step, status: 'failed', endedAt: event.at, error: event.error }));
  d.notify({
    event: 'step-failed',
    stepIndex: event.step,
    attempt,
    error: event.error,
    next: route,
    choices: route === 'ask' ? STEP_CHOICES : [],
  });
  if (route === 'retry') d.runStep(event.step);
  if (route === 'abort') finish(d, 'failed', `${stepLabel(d.context, event.step)} failed: ${event.error}`);
}

/** The worker died mid-step: the step is never re-run on its own; a human decides. */
export function markInterrupted(d: Draft, event: EventOf<'STEP_INTERRUPTED'>): void {
  const attempt = d.context.steps[event.step]!.attempts;
  d.updateStep(event.step, (step) => ({ ...step, status: 'interrupted', endedAt: event.at }));
  d.notify({ event: 'step-interrupted', stepIndex: event.step, attempt, choices: STEP_CHOICES });
}

export function retryStep(d: Draft): void {
  d.runStep(d.context.currentStep);
}

export function skipStep(d: Draft, event: EventOf<'SKIP_STEP'>): void {
  d.updateStep(event.step, (step) => ({
    ...step,
    status: 'skipped',
    endedAt: event.at,
    skippedBy: event.by,
  }));
  advance(d);
}

// --- validation --------------------------------------------------------------------------------

function askForCheck(d: Draft, index: number): void {
  const check = d.context.checks[index]!;
  if (check.kind === 'auto') {
    d.runCheck(index);
  } else {
    d.updateCheck(index, ({ name, uses, kind, attempts }) => ({
      name,
      uses,
      kind,
      attempts,
      status: 'pending',
    }));
    d.notify({ event: 'manual-check-requested', checkIndex: index });
  }
}

export function startValidation(d: Draft): void {
  d.set({ currentStep: d.context.steps.length });
  d.context.checks.forEach((_, index) => {
    askForCheck(d, index);
  });
}

export function recordCheck(
  d: Draft,
  event: EventOf<'CHECK_PASSED' | 'CHECK_FAILED' | 'CHECK_INCONCLUSIVE'>,
): void {
  const status =
    event.type === 'CHECK_PASSED' ? 'succeeded' : event.type === 'CHECK_FAILED' ? 'failed' : 'inconclusive';
  d.updateCheck(event.check, (check) => ({
    ...check,
    status,
    at: event.at,
    by: event.by,
    ...(event.detail === undefined ? {} : { detail: event.detail }),
  }));
  if (status !== 'succeeded') {
    d.notify({
      event: 'validation-failed',
      checkIndex: event.check,
      status,
      detail: event.detail ?? '',
      choices: VALIDATION_CHOICES,
    });
  }
}

export function recordManualDone(d: Draft, event: EventOf<'MANUAL_DONE'>): void {
  d.updateCheck(event.check, (check) => ({ ...check, status: 'succeeded', at: event.at, by: event.by }));
}

export function allChecksSucceeded(ctx: RollbackContext): boolean {
  return ctx.checks.every((check) => check.status === 'succeeded');
}

function stabilizeUntil(d: Draft): number | null {
  const ms = d.context.strategy.stabilizeMs;
  return ms > 0 ? d.at + ms : null;
}

export function validationPassed(d: Draft): void {
  d.notify({ event: 'validation-passed', accepted: false, stabilizeUntil: stabilizeUntil(d) });
}

/** Re-validate: every check that did not succeed runs (or is asked for) again. */
export function revalidate(d: Draft): void {
  d.context.checks.forEach((check, index) => {
    if (check.status === 'failed' || check.status === 'inconclusive' || check.status === 'skipped') {
      askForCheck(d, index);
    }
  });
}

/** An authorised user accepts a failed validation: checks still out are skipped, stabilising starts. */
export function acceptValidation(d: Draft, event: EventOf<'ACCEPT'>): void {
  const ctx = d.context;
  const verdict = checkRank(
    ctx.policy,
    { userId: event.by, roles: event.roles },
    ctx.incidentStartedAt,
    event.at,
  );
  if (!verdict.ok) return;
  const role = verdict.role;
  d.set({
    acceptance: { by: event.by, role, at: event.at },
    checks: d.context.checks.map((check) =>
      check.status === 'running' || check.status === 'pending' ? { ...check, status: 'skipped' } : check,
    ),
  });
  d.notify({ event: 'validation-passed', accepted: true, stabilizeUntil: stabilizeUntil(d) });
}
