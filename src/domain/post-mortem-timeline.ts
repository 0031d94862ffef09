/**
 * The timeline of a post-mortem: every event of a rollback with its time and actor, from the audit
 * trail (what happened, in commit order) and the context (who qualified as which role, when it was
 * authorised, validated and ended). Pure; the Slack renderer turns it into words.
 */
import type { AuditRecord } from './rollback-record.js';
import { FINAL_STATES, type OutcomeCode, type RollbackContext } from './rollback-types.js';

const FINAL: ReadonlySet<string> = new Set(FINAL_STATES);

export type StepEventStatus = 'started' | 'succeeded' | 'failed' | 'interrupted' | 'skipped' | 'retry';
export type CheckEventStatus = 'passed' | 'failed' | 'inconclusive' | 'done';

export type TimelineWhat =
  /** `fromAlert`: an alert opened the incident before the declaration. */
  | { kind: 'incident-started'; fromAlert: boolean }
  | { kind: 'declared' }
  | { kind: 'approved'; role: string | null; tier: number | null; minute: number | null }
  | { kind: 'authorized'; via: 'approval' | 'policy' }
  | { kind: 'started-now' }
  | { kind: 'escalated' }
  /** The ETA (declaration + RTO) passed before the rollback ended; the next tier was paged. */
  | { kind: 'rto-passed' }
  | {
      kind: 'step';
      step: number;
      name: string;
      status: StepEventStatus;
      attempt?: number;
      error?: string;
      /** Skipped by its `when`: what the condition found. */
      reason?: string;
    }
  | { kind: 'check'; check: number; name: string; status: CheckEventStatus; detail?: string }
  | { kind: 'validation-accepted'; role: string | null }
  | { kind: 'validated' }
  | { kind: 'ended'; outcome: OutcomeCode; reason: string };

/** `by`: a Slack user id, `policy` or `system`. */
export type TimelineEvent = { at: number; by: string } & TimelineWhat;

const STEP_EVENTS: Record<string, StepEventStatus> = {
  STEP_STARTED: 'started',
  STEP_SUCCEEDED: 'succeeded',
  STEP_FAILED: 'failed',
  STEP_INTERRUPTED: 'interrupted',
  SKIP_STEP: 'skipped',
  RETRY_STEP: 'retry',
};

const CHECK_EVENTS: Record<string, CheckEventStatus> = {
  CHECK_PASSED: 'passed',
  CHECK_FAILED: 'failed',
  CHECK_INCONCLUSIVE: 'inconclusive',
  MANUAL_DONE: 'done',
};

const VALIDATING_EVENTS = new Set(['CHECK_PASSED', 'MANUAL_DONE', 'ACCEPT', 'STEP_SUCCEEDED', 'SKIP_STEP']);

const numberIn = (detail: Record<string, unknown> | undefined, key: string): number | undefined => {
  const value = detail?.[key];
  return typeof value === 'number' ? value : undefined;
};
const stringIn = (detail: Record<string, unknown> | undefined, key: string): string | undefined => {
  const value = detail?.[key];
  return typeof value === 'string' ? value : undefined;
};

function fromAudit(entry: AuditRecord, ctx: RollbackContext): TimelineWhat | null {
  const { event, detail } = entry;
  if (event === 'DECLARE') return { kind: 'declared' };
  if (event === 'APPROVE') {
    const record = ctx.approvals.find((a) => a.user === entry.by && a.at === entry.at);
    return {
      kind: 'approved',
      role: record?.role ?? null,
      tier: record?.tier ?? null,
      minute: record?.minute ?? null,
    };
  }
  if (event === 'START_NOW') return { kind: 'started-now' };
  if (event === 'ACCEPT') {
    return { kind: 'validation-accepted', role: ctx.acceptance?.role ?? null };
  }
  if (event === 'TIMER') {
    const timer = stringIn(detail, 'timer');
    return timer === 'tier' ? { kind: 'escalated' } : timer === 'rto' ? { kind: 'rto-passed' } : null;
  }
  const stepStatus = STEP_EVENTS[event];
  if (stepStatus !== undefined) {
    const step = numberIn(detail, 'step') ?? ctx.currentStep;
    const attempt = numberIn(detail, 'attempt');
    const error = stringIn(detail, 'error');
    return {
      kind: 'step',
      step,
      name: ctx.steps[step]?.name ?? `#${step + 1}`,
      status: stepStatus,
      ...(attempt === undefined ? {} : { attempt }),
      ...(error === undefined ? {} : { error }),
    };
  }
  const checkStatus = CHECK_EVENTS[event];
  if (checkStatus !== undefined) {
    const check = numberIn(detail, 'check') ?? 0;
    const text = stringIn(detail, 'detail');
    return {
      kind: 'check',
      check,
      name: ctx.checks[check]?.name ?? `#${check + 1}`,
      status: checkStatus,
      ...(text === undefined ? {} : { detail: text }),
    };
  }
  // REJECT / CANCEL / ABORT appear as the `ended` event, which carries the reason; reminders and
  // status updates are noise in a post-mortem.
  return null;
}

/**
 * When validation was over (the last check's time once all passed; with no checks, the last step's
 * end). An accepted failure is told by the ACCEPT event itself.
 */
function validatedAt(ctx: RollbackContext): number | null {
  if (ctx.acceptance || !ctx.authorization) return null;
  const reachedEnd = ctx.outcome?.code === 'resolved' || ctx.checks.every((c) => c.status === 'succeeded');
  if (!reachedEnd || ctx.currentStep < ctx.steps.length) return null;
  const checked = ctx.checks.map((c) => c.at ?? 0);
  if (checked.length > 0) return Math.max(...checked);
  return ctx.steps.map((s) => s.endedAt ?? 0).reduce((a, b) => Math.max(a, b), ctx.authorization.at);
}

/**
 * Every event, ordered by time; events of the same instant keep commit order, and the derived ones
 * (authorised, validated, ended) come right after the audit entry that caused them.
 */
export function postMortemTimeline(ctx: RollbackContext, audit: readonly AuditRecord[]): TimelineEvent[] {
  const entries = [...audit].sort((a, b) => a.at - b.at);
  const keyed: Array<{ rank: number; event: TimelineEvent }> = [];
  entries.forEach((entry, index) => {
    const what = fromAudit(entry, ctx);
    if (what) keyed.push({ rank: index, event: { at: entry.at, by: entry.by, ...what } });
  });
  /** After the first entry matching `cause` at that time; else after the last entry up to then. */
  const rankAfter = (at: number, cause: (entry: AuditRecord) => boolean): number => {
    const found = entries.findIndex((e) => e.at === at && cause(e));
    if (found !== -1) return found + 0.5;
    let last = -1;
    entries.forEach((e, i) => {
      if (e.at <= at) last = i;
    });
    return last + 0.5;
  };

  const fromAlert = ctx.incidentStartedAt < ctx.declaredAt;
  keyed.push({
    rank: -1,
    event: {
      at: ctx.incidentStartedAt,
      by: fromAlert ? 'system' : ctx.declaredBy,
      kind: 'incident-started',
      fromAlert,
    },
  });
  const auth = ctx.authorization;
  if (auth) {
    keyed.push({
      rank: rankAfter(auth.at, (e) => e.state !== 'declared' && e.state !== 'pending'),
      event: { at: auth.at, by: auth.by, kind: 'authorized', via: auth.via },
    });
  }
  // A step whose `when` was false has no audit entry of its own: it was skipped inside the
  // transition that reached it (a step's result, the authorisation, a human's Skip).
  ctx.steps.forEach((step, index) => {
    if (step.skippedBy !== 'condition' || step.endedAt === undefined) return;
    keyed.push({
      rank: rankAfter(step.endedAt, () => true) + 0.05,
      event: {
        at: step.endedAt,
        by: 'system',
        kind: 'step',
        step: index,
        name: step.name,
        status: 'skipped',
        ...(step.skipReason === undefined ? {} : { reason: step.skipReason }),
      },
    });
  });
  const validated = validatedAt(ctx);
  if (validated !== null) {
    // Checks finish in any order: the last audited one up to that moment completed validation
    // (with no checks, whatever happened at that moment: the last step, or the authorisation).
    const cause = entries.findLastIndex(
      (e) => e.at === validated || (e.at < validated && VALIDATING_EVENTS.has(e.event)),
    );
    keyed.push({
      rank: cause + 0.6,
      event: { at: validated, by: entries[cause]?.by ?? 'system', kind: 'validated' },
    });
  }
  const outcome = ctx.outcome;
  if (outcome) {
    keyed.push({
      rank: rankAfter(outcome.at, (e) => FINAL.has(e.state)) + 0.2,
      event: { at: outcome.at, by: outcome.by, kind: 'ended', outcome: outcome.code, reason: outcome.reason },
    });
  }
  return keyed.sort((a, b) => a.event.at - b.event.at || a.rank - b.rank).map(({ event }) => event);
}
