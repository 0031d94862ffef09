/**
 * The rollback as people and programs see it: the JSON of `GET /api/rollbacks/:id` (DESIGN section 9)
 * and what the Slack status card is drawn from. Built from the stored record and its audit trail;
 * the authority fields (who may approve now, until when) need the current time.
 */
import { tierAt } from '../domain/authority.js';
import type { Contact, PlanLinks, StepCondition } from '../domain/plan.js';
import { etaOf } from '../domain/rollback-lifecycle.js';
import { describeState, restore, stateName, type PersistedRollback } from '../domain/rollback-machine.js';
import { FINAL_STATES } from '../domain/rollback-types.js';
import type { CheckStatus, RollbackContext, StateName, StepStatus } from '../domain/rollback-types.js';
import { stabilizeEveryMs, stabilizeFailureLimit } from '../domain/rollback-stabilization.js';
import { restoredVersion, type StepResolution, type StepTarget } from '../domain/step-target.js';
import type { AuditEntry, StoredRollback } from '../store/store.js';

/** A step's target as shown: the one it recorded when it started, else the latest reading. */
function targetOf(recorded: StepTarget | undefined, resolved: StepResolution | undefined) {
  if (recorded !== undefined) return { target: recorded };
  if (!resolved) return {};
  return 'target' in resolved ? { target: resolved.target } : { targetProblem: resolved.problem };
}

/** A step's `when` as written and, once skipped, who or what skipped it and why. */
function whenOf(step: RollbackContext['steps'][number], condition: StepCondition | undefined) {
  return {
    ...(condition === undefined ? {} : { when: condition.text }),
    ...(step.skippedBy === undefined ? {} : { skippedBy: step.skippedBy }),
    ...(step.skipReason === undefined ? {} : { skipReason: step.skipReason }),
  };
}

const iso = (ms: number | undefined | null): string | null =>
  ms == null ? null : new Date(ms).toISOString();

export interface RollbackView {
  id: string;
  service: string;
  environment: string;
  state: StateName;
  /** The state in words, e.g. `executing (step 2 ("Switch traffic") is running)`. */
  stateDetail: string;
  strategy: string;
  fromVersion: string | null;
  toVersion: string;
  reason: string;
  declaredBy: string;
  declaredAt: string;
  incidentStartedAt: string;
  drill: boolean;
  steps: Array<{
    name: string;
    uses: string;
    status: StepStatus;
    attempts: number;
    startedAt: string | null;
    endedAt: string | null;
    error?: string;
    /** What the step changes: recorded when it started, else as last resolved. */
    target?: StepTarget;
    /** Why its target cannot be told now: the rollback cannot run until this is fixed. */
    targetProblem?: string;
    /** The step runs only when this holds (its `when`, as written). */
    when?: string;
    /** Who skipped it: a user id, or `condition` when its `when` was false. */
    skippedBy?: string;
    /** Why its `when` skipped it, e.g. `steps.migrate-check.output.applied was false`. */
    skipReason?: string;
  }>;
  /** The digest of the targets the card shows; an approval names it. */
  digest?: string;
  checks: Array<{
    name: string;
    kind: 'auto' | 'manual';
    status: CheckStatus;
    at: string | null;
    by?: string;
    detail?: string;
  }>;
  /** Metrics watched while the steps run: each one's last sample. */
  watches: Array<{
    name: string;
    status: 'pending' | 'running' | 'ok' | 'breached' | 'inconclusive';
    at: string | null;
    detail?: string;
  }>;
  /** A breached watch nobody has answered: the next step waits for continue or abort. */
  watchHold: { watch: string; detail: string; at: string } | null;
  /** The stabilisation window, once it started: checks run again every `everyMs` until `until`. */
  stabilization: {
    startedAt: string;
    until: string;
    everyMs: number;
    failureLimit: number;
    rounds: number;
    failures: number;
    /** The last result of each automatic check during the window. */
    last: Array<{ check: string; status: 'succeeded' | 'failed' | 'inconclusive'; at: string }>;
    /** What ended it early (`alert HighErrorRate`, `check Probe`); null while it runs or when it passed. */
    endedBy: string | null;
  } | null;
  /**
   * Steps after resolution (`strategy.after`): planned until it resolves (`dueAt` null, due
   * `delayMs` after it), then each with its due time and how it went. Empty when the plan has none,
   * or when the rollback ended otherwise than resolved (they never run then).
   */
  afterSteps: Array<{
    name: string;
    uses: string;
    status: StepStatus;
    delayMs: number;
    dueAt: string | null;
    startedAt: string | null;
    endedAt: string | null;
    error?: string;
    /** Why it was skipped or stopped (an earlier one failed, a new rollback was declared). */
    note?: string;
  }>;
  approvals: Array<{ user: string; role: string; at: string; tier: number; minute: number }>;
  /** When the rollback should be over by: the declaration plus the plan's RTO (absent without one). */
  eta?: string;
  rtoMs?: number;
  /** The plan's owner, contacts and links as they were at the declaration (absent when none). */
  owner?: string;
  contacts?: Contact[];
  links?: PlanLinks;
  /** The incident the rollback joined when declared, and its alerts' `severity` label. */
  incidentId?: string;
  severity?: string;
  /** While approval is pending: who may approve now and until when (null: until the end). */
  approver: { role: string; notify: string | null; until: string | null } | null;
  outcome: { code: string; reason: string; by: string; at: string } | null;
  timeline: Array<{ at: string; event: string; by: string; state: string }>;
  version: number;
}

function stabilizationOf(ctx: RollbackContext): RollbackView['stabilization'] {
  const window = ctx.stabilization;
  if (!window) return null;
  return {
    startedAt: iso(window.startedAt)!,
    until: iso(window.until)!,
    everyMs: stabilizeEveryMs(ctx),
    failureLimit: stabilizeFailureLimit(ctx),
    rounds: window.rounds,
    failures: window.failures,
    last: Object.entries(window.last).map(([index, result]) => ({
      check: ctx.checks[Number(index)]?.name ?? `check ${index}`,
      status: result.status,
      at: iso(result.at)!,
    })),
    endedBy: window.endedBy ?? null,
  };
}

function afterStepsOf(ctx: RollbackContext, state: StateName): RollbackView['afterSteps'] {
  const specs = ctx.strategy.after ?? [];
  if (ctx.afterSteps === undefined) {
    if (FINAL_STATES.some((final) => final === state)) return [];
    return specs.map((spec) => ({
      name: spec.name,
      uses: spec.uses,
      status: 'pending',
      delayMs: spec.delayMs,
      dueAt: null,
      startedAt: null,
      endedAt: null,
    }));
  }
  return ctx.afterSteps.map((step, index) => ({
    name: step.name,
    uses: step.uses,
    status: step.status,
    delayMs: specs[index]?.delayMs ?? 0,
    dueAt: iso(step.dueAt),
    startedAt: iso(step.startedAt),
    endedAt: iso(step.endedAt),
    ...(step.error === undefined ? {} : { error: step.error }),
    ...(step.note === undefined ? {} : { note: step.note }),
  }));
}

/** The ETA and the plan's facts the rollback kept: only those it has. */
function aboutOf(ctx: RollbackContext): Partial<RollbackView> {
  const eta = etaOf(ctx);
  return {
    ...(eta === null ? {} : { eta: iso(eta)!, rtoMs: ctx.rtoMs! }),
    ...(ctx.owner === undefined ? {} : { owner: ctx.owner }),
    ...(ctx.contacts === undefined ? {} : { contacts: ctx.contacts }),
    ...(ctx.links === undefined ? {} : { links: ctx.links }),
    ...(ctx.incidentId === undefined ? {} : { incidentId: ctx.incidentId }),
    ...(ctx.severity === undefined ? {} : { severity: ctx.severity }),
  };
}

export function contextOf(rollback: StoredRollback): RollbackContext {
  return restore(rollback.snapshot as PersistedRollback).context;
}

export function rollbackView(
  rollback: StoredRollback,
  audit: readonly AuditEntry[],
  now: number,
): RollbackView {
  const snapshot = restore(rollback.snapshot as PersistedRollback);
  const ctx = snapshot.context;
  const tier = rollback.state === 'declared' ? tierAt(ctx.policy, ctx.incidentStartedAt, now) : null;
  return {
    id: rollback.id,
    service: ctx.service,
    environment: ctx.environment,
    // From the snapshot (the stored `state` beside it is the same name, kept as a string for listings).
    state: stateName(snapshot),
    stateDetail: describeState(snapshot),
    strategy: ctx.strategy.name,
    fromVersion: ctx.fromVersion,
    // What the platform steps really restored, once they did (the declared version before that).
    toVersion: restoredVersion(ctx),
    reason: ctx.reason,
    declaredBy: ctx.declaredBy,
    declaredAt: iso(ctx.declaredAt)!,
    incidentStartedAt: iso(ctx.incidentStartedAt)!,
    drill: ctx.drill,
    steps: ctx.steps.map((step, index) => ({
      name: step.name,
      uses: step.uses,
      status: step.status,
      attempts: step.attempts,
      startedAt: iso(step.startedAt),
      endedAt: iso(step.endedAt),
      ...(step.error === undefined ? {} : { error: step.error }),
      ...targetOf(step.target, ctx.resolution?.steps[index]),
      ...whenOf(step, ctx.strategy.steps[index]?.when),
    })),
    ...(ctx.resolution === null ? {} : { digest: ctx.resolution.digest }),
    checks: ctx.checks.map((check) => ({
      name: check.name,
      kind: check.kind,
      status: check.status,
      at: iso(check.at),
      ...(check.by === undefined ? {} : { by: check.by }),
      ...(check.detail === undefined ? {} : { detail: check.detail }),
    })),
    watches: (ctx.watches ?? []).map((watch) => ({
      name: watch.name,
      status: watch.status,
      at: iso(watch.at),
      ...(watch.detail === undefined ? {} : { detail: watch.detail }),
    })),
    watchHold: ctx.watchHold
      ? {
          watch: ctx.watches?.[ctx.watchHold.watchIndex]?.name ?? `watch ${ctx.watchHold.watchIndex + 1}`,
          detail: ctx.watchHold.detail,
          at: iso(ctx.watchHold.at)!,
        }
      : null,
    stabilization: stabilizationOf(ctx),
    afterSteps: afterStepsOf(ctx, stateName(snapshot)),
    approvals: ctx.approvals.map((a) => ({
      user: a.user,
      role: a.role,
      at: iso(a.at)!,
      tier: a.tier,
      minute: a.minute,
    })),
    ...aboutOf(ctx),
    approver: tier && { role: tier.spec.approver, notify: tier.spec.notify ?? null, until: iso(tier.until) },
    outcome: ctx.outcome && { ...ctx.outcome, at: iso(ctx.outcome.at)! },
    timeline: [...audit]
      .sort((a, b) => a.at - b.at || a.version - b.version)
      .map((entry) => ({ at: iso(entry.at)!, event: entry.event, by: entry.by, state: entry.state })),
    version: rollback.version,
  };
}
