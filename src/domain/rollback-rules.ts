/**
 * Admission rules: may this event act on this rollback now? Each rule returns null (admitted) or a
 * refusal, `{ code, message }` with a plain message. The machine's guards call these rules, and
 * `applyEvent` calls the same rules to explain a refusal, so what is refused and why it is refused
 * cannot drift apart.
 */
import { resolutionProblem } from './step-target.js';
import { canAct, canApprove, checkRank, type Actor, type AuthorityDecision } from './authority.js';
import type { EventOf, RollbackEvent } from './rollback-events.js';
import type { RollbackContext, TimerName } from './rollback-types.js';
import { refuseAfterReport, refuseSuperseded } from './rollback-after.js';

/** Why an event is refused; the person reads the message (docs/troubleshooting.md explains each). */
export const EVENT_REFUSAL_CODES = ['not_accepted', 'unauthorized', 'stale', 'invalid', 'malformed'] as const;
export type RefusalCode = (typeof EVENT_REFUSAL_CODES)[number];

export interface Refusal {
  code: RefusalCode;
  message: string;
}

type PersonEvent = Extract<RollbackEvent, { roles: string[] }>;

const actorOf = (event: PersonEvent): Actor => ({ userId: event.by, roles: event.roles });

const ACTS: Record<PersonEvent['type'], string> = {
  APPROVE: 'approving',
  REJECT: 'rejecting',
  CANCEL: 'cancelling',
  START_NOW: 'starting the rollback now',
  RETRY_STEP: 'retrying',
  SKIP_STEP: 'skipping a step',
  ABORT: 'aborting',
  MANUAL_DONE: 'marking a check done',
  ACCEPT: 'accepting a failed validation',
  CONTINUE: 'going on after a watched metric breached',
};

const stale = (message: string): Refusal => ({ code: 'stale', message: `stale event: ${message}` });
const invalid = (message: string): Refusal => ({ code: 'invalid', message });
const unauthorized = (message: string): Refusal => ({ code: 'unauthorized', message });

export function stepLabel(ctx: RollbackContext, index: number): string {
  const step = ctx.steps[index];
  return step ? `step ${index} ("${step.name}")` : `step ${index}`;
}

function checkLabel(ctx: RollbackContext, index: number): string {
  const check = ctx.checks[index];
  return check ? `check ${index} ("${check.name}")` : `check ${index}`;
}

/** The authority matrix's verdict on an approval, with the expiry counted from the request. */
export function approvalDecision(ctx: RollbackContext, event: EventOf<'APPROVE'>): AuthorityDecision {
  return canApprove({
    policy: ctx.policy,
    actor: actorOf(event),
    environment: ctx.environment,
    incidentStartedAt: ctx.incidentStartedAt,
    declaredAt: ctx.approvalRequestedAt ?? ctx.declaredAt,
    declaredBy: ctx.declaredBy,
    approvals: ctx.approvals,
    now: event.at,
  });
}

export function refuseApproval(ctx: RollbackContext, event: EventOf<'APPROVE'>): Refusal | null {
  const problem = resolutionProblem(
    ctx.resolution,
    ctx.steps.map((step) => step.name),
  );
  if (problem !== null) return invalid(`the rollback cannot run yet: ${problem}`);
  if (event.digest !== undefined && ctx.resolution !== null && event.digest !== ctx.resolution.digest) {
    return stale('the targets changed since this card was drawn; the card shows what would run now');
  }
  const decision = approvalDecision(ctx, event);
  return decision.ok ? null : unauthorized(decision.message);
}

/** Reject and accept need the rank of the tier in force at the event's time. */
export function refuseRank(ctx: RollbackContext, event: EventOf<'REJECT' | 'ACCEPT'>): Refusal | null {
  const verdict = checkRank(ctx.policy, actorOf(event), ctx.incidentStartedAt, event.at);
  return verdict.ok ? null : unauthorized(verdict.message);
}

/** Continue answers a breached watch: it needs a role, and a breach waiting for an answer. */
export function refuseContinue(ctx: RollbackContext, event: EventOf<'CONTINUE'>): Refusal | null {
  const role = refuseNoRole(ctx, event);
  if (role) return role;
  return ctx.watchHold ? null : stale('no breached watch is waiting for an answer');
}

export function refuseWatchSample(ctx: RollbackContext, event: EventOf<'WATCH_SAMPLED'>): Refusal | null {
  const watch = ctx.watches?.[event.watch];
  if (!watch)
    return invalid(`WATCH_SAMPLED names watch ${event.watch}; the plan has ${ctx.watches?.length ?? 0}`);
  if (watch.attempts !== event.attempt)
    return stale(
      `sample ${event.attempt} of watch "${watch.name}", but sample ${watch.attempts} is the current one`,
    );
  return watch.status === 'running'
    ? null
    : stale(`watch "${watch.name}" is not being sampled (${watch.status})`);
}

/** Everything else a person does needs any role of the policy. */
export function refuseNoRole(ctx: RollbackContext, event: PersonEvent): Refusal | null {
  const verdict = canAct(ctx.policy, actorOf(event), ACTS[event.type]);
  return verdict.ok ? null : unauthorized(verdict.message);
}

function refuseStepIndex(ctx: RollbackContext, step: number, type: string): Refusal | null {
  if (step >= ctx.steps.length)
    return invalid(`${type} names step ${step}; the plan has ${ctx.steps.length}`);
  if (step !== ctx.currentStep) {
    const current =
      ctx.currentStep < ctx.steps.length ? stepLabel(ctx, ctx.currentStep) : 'no step (execution is over)';
    return stale(`${type} for ${stepLabel(ctx, step)}, but the current step is ${current}`);
  }
  return null;
}

function refuseAttempt(ctx: RollbackContext, step: number, attempt: number | undefined): Refusal | null {
  const attempts = ctx.steps[step]!.attempts;
  if (attempt !== undefined && attempt !== attempts) {
    return stale(`attempt ${attempt} of ${stepLabel(ctx, step)}, but attempt ${attempts} is the current one`);
  }
  return null;
}

export function refuseStepStart(ctx: RollbackContext, event: EventOf<'STEP_STARTED'>): Refusal | null {
  const refusal =
    refuseStepIndex(ctx, event.step, event.type) ?? refuseAttempt(ctx, event.step, event.attempt);
  if (refusal) return refusal;
  const status = ctx.steps[event.step]!.status;
  return status === 'pending' ? null : stale(`${stepLabel(ctx, event.step)} has already started (${status})`);
}

export function refuseStepResult(
  ctx: RollbackContext,
  event: EventOf<'STEP_SUCCEEDED' | 'STEP_FAILED'>,
): Refusal | null {
  const refusal =
    refuseStepIndex(ctx, event.step, event.type) ?? refuseAttempt(ctx, event.step, event.attempt);
  if (refusal) return refusal;
  const status = ctx.steps[event.step]!.status;
  return status === 'running' ? null : stale(`${stepLabel(ctx, event.step)} is not running (${status})`);
}

export function refuseStepInterrupt(
  ctx: RollbackContext,
  event: EventOf<'STEP_INTERRUPTED'>,
): Refusal | null {
  const refusal =
    refuseStepIndex(ctx, event.step, event.type) ?? refuseAttempt(ctx, event.step, event.attempt);
  if (refusal) return refusal;
  const status = ctx.steps[event.step]!.status;
  return status === 'pending' || status === 'running'
    ? null
    : stale(`${stepLabel(ctx, event.step)} is not in progress (${status})`);
}

/** Retry and skip act on the step waiting for a decision; a retry without a step means "this one". */
export function refuseStepDecision(
  ctx: RollbackContext,
  event: EventOf<'RETRY_STEP' | 'SKIP_STEP'>,
): Refusal | null {
  const role = refuseNoRole(ctx, event);
  if (role) return role;
  if (event.step === undefined) return null;
  if (ctx.currentStep >= ctx.steps.length) {
    return stale(`${event.type} names ${stepLabel(ctx, event.step)}, but execution is over`);
  }
  return refuseStepIndex(ctx, event.step, event.type);
}

/** A check result must answer a check that is running, for the current attempt. */
export function refuseCheckResult(
  ctx: RollbackContext,
  event: EventOf<'CHECK_PASSED' | 'CHECK_FAILED' | 'CHECK_INCONCLUSIVE'>,
): Refusal | null {
  const check = ctx.checks[event.check];
  if (!check) return invalid(`${event.type} names check ${event.check}; the plan has ${ctx.checks.length}`);
  if (check.kind === 'manual')
    return invalid(`${checkLabel(ctx, event.check)} is manual: mark it done instead`);
  if (event.attempt !== undefined && event.attempt !== check.attempts) {
    return stale(
      `attempt ${event.attempt} of ${checkLabel(ctx, event.check)}, but attempt ${check.attempts} is the current one`,
    );
  }
  return check.status === 'running'
    ? null
    : stale(`${checkLabel(ctx, event.check)} is not running (${check.status})`);
}

/** While stabilising, any known check may report that the service went bad again. */
export function refuseUnknownCheck(ctx: RollbackContext, event: EventOf<'CHECK_FAILED'>): Refusal | null {
  return ctx.checks[event.check]
    ? null
    : invalid(`${event.type} names check ${event.check}; the plan has ${ctx.checks.length}`);
}

export function refuseManualDone(ctx: RollbackContext, event: EventOf<'MANUAL_DONE'>): Refusal | null {
  const role = refuseNoRole(ctx, event);
  if (role) return role;
  const check = ctx.checks[event.check];
  if (!check) return invalid(`MANUAL_DONE names check ${event.check}; the plan has ${ctx.checks.length}`);
  if (check.kind !== 'manual')
    return invalid(`${checkLabel(ctx, event.check)} is automatic, not a manual item`);
  return check.status === 'pending'
    ? null
    : stale(`${checkLabel(ctx, event.check)} is not waiting to be marked (${check.status})`);
}

/** A timer acts only when it is the one currently scheduled under its name. */
export function refuseTimer(
  ctx: RollbackContext,
  event: EventOf<'TIMER'>,
  expected?: TimerName,
): Refusal | null {
  const deadline = ctx.deadlines[event.timer];
  if (expected !== undefined && event.timer !== expected)
    return stale(`timer "${event.timer}" is not due here`);
  if (!deadline) return stale(`timer "${event.timer}" #${event.seq} is no longer scheduled`);
  if (deadline.seq !== event.seq) {
    return stale(`timer "${event.timer}" #${event.seq} was replaced by #${deadline.seq}`);
  }
  return null;
}

/**
 * Why the event is refused in the state at `path` (e.g. `validating.stabilizing`), given that the
 * state takes events of this type: the same rule its guard applies.
 */
export function refusalFor(ctx: RollbackContext, path: string, event: RollbackEvent): Refusal | null {
  switch (event.type) {
    case 'APPROVE':
      return refuseApproval(ctx, event);
    case 'REJECT':
    case 'ACCEPT':
      return refuseRank(ctx, event);
    case 'CANCEL':
    case 'START_NOW':
    case 'ABORT':
      return refuseNoRole(ctx, event);
    case 'RETRY_STEP':
    case 'SKIP_STEP':
      return refuseStepDecision(ctx, event);
    case 'MANUAL_DONE':
      return refuseManualDone(ctx, event);
    case 'STEP_STARTED':
      return refuseStepStart(ctx, event);
    case 'STEP_SUCCEEDED':
    case 'STEP_FAILED':
      return refuseStepResult(ctx, event);
    case 'STEP_INTERRUPTED':
      return refuseStepInterrupt(ctx, event);
    case 'CHECK_FAILED':
      return path === 'validating.stabilizing'
        ? refuseUnknownCheck(ctx, event)
        : refuseCheckResult(ctx, event);
    case 'CHECK_PASSED':
    case 'CHECK_INCONCLUSIVE':
      return refuseCheckResult(ctx, event);
    case 'TIMER':
      return refuseTimer(ctx, event);
    case 'CONTINUE':
      return refuseContinue(ctx, event);
    case 'WATCH_SAMPLED':
      return refuseWatchSample(ctx, event);
    case 'AFTER_STEP_STARTED':
    case 'AFTER_STEP_SUCCEEDED':
    case 'AFTER_STEP_FAILED':
    case 'AFTER_STEP_INTERRUPTED':
      return refuseAfterReport(ctx, event);
    case 'SUPERSEDED':
      return refuseSuperseded(ctx, event);
    case 'TARGETS_RESOLVED':
    case 'ALERTS_FIRING':
      return null;
  }
}
