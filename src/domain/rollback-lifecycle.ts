/**
 * What the transitions around execution do: declaration, approval, escalation and the endings.
 * Pure functions over a `Draft` (next context + effects): the statechart decides *which*
 * transition is taken; these say what it records and which effects it asks for. Guards have
 * already admitted the event when these run. Steps and validation: `rollback-execution.ts`.
 */
import { approvalsRequired, nextTierChangeAt, tierAt, type ActiveTier } from './authority.js';
import type { EventOf } from './rollback-events.js';
import { approvalDecision } from './rollback-rules.js';
import type { Draft } from './rollback-effects.js';
import { stabilityWords } from './rollback-stabilization.js';
import type {
  ApprovalTally,
  OutcomeCode,
  RollbackContext,
  RollbackInput,
  TierNotice,
  TimerName,
} from './rollback-types.js';

const APPROVAL_TIMERS: TimerName[] = ['tier', 'reminder', 'expire'];

export function initialContext(input: RollbackInput): RollbackContext {
  return {
    id: input.id,
    service: input.service,
    environment: input.environment,
    // Copies, so a config reload (or any later change to the plan objects) changes nothing here.
    strategy: structuredClone(input.strategy),
    policy: structuredClone(input.policy),
    fromVersion: input.fromVersion,
    toVersion: input.toVersion,
    reason: input.reason,
    declaredBy: input.declaredBy,
    declaredAt: input.at,
    incidentStartedAt: input.incidentStartedAt,
    trigger: input.trigger,
    drill: input.drill,
    requiresHuman: input.requiresHuman,
    updateEveryMs: input.updateEveryMs ?? 0,
    resolution: input.resolution ?? null,
    ...(input.firingAlerts === undefined ? {} : { firingAlerts: structuredClone(input.firingAlerts) }),
    ...about(input),
    steps: input.strategy.steps.map((s) => ({ name: s.name, uses: s.uses, status: 'pending', attempts: 0 })),
    checks: input.strategy.validate.map((c) => ({
      name: c.name,
      uses: c.uses,
      kind: c.uses === 'manual' ? 'manual' : 'auto',
      status: 'pending',
      attempts: 0,
    })),
    approvals: [],
    currentStep: 0,
    currentTier: tierAt(input.policy, input.incidentStartedAt, input.at).index,
    approvalRequestedAt: null,
    timerSeq: 0,
    deadlines: {},
    authorization: null,
    acceptance: null,
    outcome: null,
    lastEventAt: input.at,
  };
}

/** The plan's RTO, owner, contacts and links and the incident's facts: only those given (JSON drops undefined). */
function about(input: RollbackInput): Partial<RollbackContext> {
  const { rtoMs, owner, contacts, links, incidentId, severity } = input;
  return {
    ...(rtoMs === undefined ? {} : { rtoMs }),
    ...(owner === undefined ? {} : { owner }),
    ...(contacts === undefined || contacts.length === 0 ? {} : { contacts: structuredClone(contacts) }),
    ...(links === undefined || Object.keys(links).length === 0 ? {} : { links: { ...links } }),
    ...(incidentId === undefined ? {} : { incidentId }),
    ...(severity === undefined ? {} : { severity }),
  };
}

/** When the rollback should be over by (declaration + the plan's RTO); null without an RTO. */
export function etaOf(ctx: Pick<RollbackContext, 'declaredAt' | 'rtoMs'>): number | null {
  return ctx.rtoMs === undefined ? null : ctx.declaredAt + ctx.rtoMs;
}

function tierNotice(ctx: RollbackContext, at: number): TierNotice {
  return noticeOf(tierAt(ctx.policy, ctx.incidentStartedAt, at));
}

function noticeOf(tier: ActiveTier): TierNotice {
  return {
    index: tier.index,
    approver: tier.spec.approver,
    ...(tier.spec.notify === undefined ? {} : { notify: tier.spec.notify }),
    since: tier.since,
    until: tier.until,
  };
}

/** The tier `index` of the policy, with its times for this incident. */
function tierByIndex(ctx: RollbackContext, index: number): ActiveTier {
  const { tiers } = ctx.policy;
  const spec = tiers[index]!;
  const next = tiers[index + 1];
  return {
    index,
    spec,
    since: ctx.incidentStartedAt + spec.afterMs,
    until: next ? ctx.incidentStartedAt + next.afterMs : null,
  };
}

function tally(ctx: RollbackContext): ApprovalTally {
  return { count: ctx.approvals.length, required: approvalsRequired(ctx.policy, ctx.environment) };
}

function expiresAt(ctx: RollbackContext): number {
  return (ctx.approvalRequestedAt ?? ctx.declaredAt) + ctx.policy.expireAfterMs;
}

// --- declaration and approval -------------------------------------------------------------------

export function announceDeclared(d: Draft): void {
  const { trigger, declaredAt } = d.context;
  d.notify({ event: 'declared', autoStartAt: trigger.kind === 'auto' ? declaredAt + trigger.delayMs : null });
}

export function schedulePendingStart(d: Draft): void {
  const { trigger, declaredAt } = d.context;
  d.schedule('pending', declaredAt + (trigger.kind === 'auto' ? trigger.delayMs : 0));
}

export function requestApproval(d: Draft): void {
  const tier = tierNotice(d.context, d.at);
  d.set({ approvalRequestedAt: d.at, currentTier: tier.index });
  const ctx = d.context;
  d.notify({ event: 'approval-requested', tier, approvals: tally(ctx), expiresAt: expiresAt(ctx) });
  const nextTier = nextTierChangeAt(ctx.policy, ctx.incidentStartedAt, d.at);
  if (nextTier !== null) d.schedule('tier', nextTier);
  if (ctx.policy.reminderEveryMs > 0) d.schedule('reminder', d.at + ctx.policy.reminderEveryMs);
  d.schedule('expire', expiresAt(ctx));
}

export function clearApprovalTimers(d: Draft): void {
  d.clearTimers(APPROVAL_TIMERS);
}

export function recordApproval(d: Draft, event: EventOf<'APPROVE'>): void {
  const decision = approvalDecision(d.context, event);
  if (!decision.ok) return;
  d.set({
    approvals: [
      ...d.context.approvals,
      {
        user: event.by,
        role: decision.role,
        tier: decision.tier.index,
        at: event.at,
        minute: decision.minute,
      },
    ],
  });
  if (decision.complete) {
    d.set({ authorization: { by: event.by, at: event.at, via: 'approval' } });
  } else {
    d.notify({ event: 'approved', approver: event.by, role: decision.role, approvals: tally(d.context) });
  }
}

/**
 * The steps' targets were read again. A new digest voids the approvals given so far: they were for
 * what the card showed before (someone deployed in between, a target vanished).
 */
export function recordResolution(d: Draft, event: EventOf<'TARGETS_RESOLVED'>): void {
  const previous = d.context.resolution;
  if (previous?.digest === event.resolution.digest) {
    d.set({ resolution: { ...previous, at: event.resolution.at } });
    return;
  }
  const voided = d.context.approvals.length;
  d.set({ resolution: event.resolution, approvals: [] });
  d.notify({ event: 'targets-changed', approvalsVoided: voided });
}

export function authorizeByPolicy(d: Draft): void {
  d.set({ authorization: { by: 'policy', at: d.at, via: 'policy' } });
}

/** The tier timer fired: announce the new tier (approver and notify role), schedule the next. */
export function escalate(d: Draft): void {
  const when = Math.max(d.at, d.context.deadlines.tier?.dueAt ?? d.at);
  const tier = tierNotice(d.context, when);
  d.set({ currentTier: tier.index });
  d.notify({ event: 'escalated', tier });
  if (tier.until === null) d.clearTimers(['tier']);
  else d.schedule('tier', tier.until);
}

/** At the declaration: the ETA, when the plan has an RTO, is a timer like any deadline. */
export function scheduleRto(d: Draft): void {
  const eta = etaOf(d.context);
  if (eta !== null) d.schedule('rto', eta);
}

/**
 * The ETA passed and the rollback has not ended: the escalation path says so and pages the tier above
 * the one in force (the last tier again when none is above). Who may approve does not change: that
 * is the authority matrix's, by the incident's age. Once: the deadline goes.
 */
export function passRto(d: Draft): void {
  const ctx = d.context;
  const eta = ctx.deadlines.rto?.dueAt ?? etaOf(ctx) ?? d.at;
  const inForce = tierAt(ctx.policy, ctx.incidentStartedAt, Math.max(d.at, eta)).index;
  const paged = tierByIndex(ctx, Math.min(inForce + 1, ctx.policy.tiers.length - 1));
  d.clearTimers(['rto']);
  d.notify({
    event: 'escalated',
    tier: noticeOf(paged),
    rto: { eta, rtoMs: ctx.rtoMs ?? eta - ctx.declaredAt },
  });
}

export function remind(d: Draft): void {
  const ctx = d.context;
  d.notify({
    event: 'reminder',
    tier: tierNotice(ctx, d.at),
    approvals: tally(ctx),
    expiresAt: expiresAt(ctx),
  });
  const from = Math.max(d.at, ctx.deadlines.reminder?.dueAt ?? d.at);
  d.schedule('reminder', from + ctx.policy.reminderEveryMs);
}

// --- endings -----------------------------------------------------------------------------------

/**
 * Records how the rollback ended. Every deadline goes (a timer still in flight is stale); a step
 * still in flight (asked for or running) is interrupted and its executor told to stop; checks
 * still running are skipped.
 */
export function finish(d: Draft, code: OutcomeCode, reason: string): void {
  const index = d.context.currentStep;
  const step = d.context.steps[index];
  if (step && (step.status === 'running' || (step.status === 'pending' && step.attempts > 0))) {
    d.updateStep(index, (s) => ({ ...s, status: 'interrupted', endedAt: d.at }));
    d.emit({ kind: 'cancelStep', stepIndex: index, attempt: step.attempts });
  }
  d.set({
    outcome: { code, reason, by: d.by, at: d.at },
    deadlines: {},
    checks: d.context.checks.map((check) =>
      check.status === 'running' ? { ...check, status: 'skipped' } : check,
    ),
  });
}

/** Entry of every final state: lift the freeze, tell everyone. */
export function announceOutcome(d: Draft): void {
  const outcome = d.context.outcome;
  d.emit({ kind: 'freeze', on: false });
  if (outcome) d.notify({ event: outcome.code, reason: outcome.reason });
}

const withReason = (text: string, reason: string | undefined): string =>
  reason === undefined || reason.trim() === '' ? text : `${text}: ${reason}`;

export function rejectRollback(d: Draft, event: EventOf<'REJECT'>): void {
  finish(d, 'rejected', withReason(`rejected by ${event.by}`, event.reason));
}

export function cancelBeforeExecution(d: Draft, event: EventOf<'CANCEL'>): void {
  finish(d, 'cancelled', withReason(`cancelled by ${event.by}`, event.reason));
}

export function cancelAfterExecutionBegan(d: Draft, event: EventOf<'CANCEL'>): void {
  finish(d, 'aborted', withReason(`cancelled by ${event.by} after execution began`, event.reason));
}

export function abortRollback(d: Draft, event: EventOf<'ABORT'>): void {
  finish(d, 'aborted', withReason(`aborted by ${event.by}`, event.reason));
}

export function expireApproval(d: Draft): void {
  finish(d, 'expired', 'approval expired');
}

export function resolveRollback(d: Draft): void {
  const { acceptance } = d.context;
  const validation = acceptance ? `validation accepted by ${acceptance.by}` : 'validation passed';
  finish(d, 'resolved', validation + stabilityWords(d.context));
}
