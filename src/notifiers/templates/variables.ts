/**
 * The values of a communication template, from the rollback as people see it (`RollbackView`) and
 * the notice being sent, or from the incident an alert opened before any rollback (`incidentVars`).
 * Pure: the time of the notice is given, not read from a clock.
 */
import { DEFAULT_UPDATE_EVERY_MS } from '../../app/rollback-service.js';
import type { RollbackView } from '../../app/rollback-view.js';
import type { CommunicationsPolicy } from '../../domain/communications.js';
import type { CommunicationVars } from '../../domain/communication-vars.js';
import { formatDuration } from '../../domain/duration.js';
import type { Incident } from '../../domain/incident.js';
import { outageOf, type Criticality, type OutageStatus, type RollbackPlan } from '../../domain/plan.js';
import type { NotifyDetail, StateName } from '../../domain/rollback-types.js';
import { utcText } from '../../slack/blocks/text.js';

const INTERRUPTED =
  'interrupted: the bot restarted while this step ran; it was not re-run and waits for a decision';

/** What a message needs of the plan and its Communications besides the rollback. */
export interface MessageFacts {
  criticality: Criticality;
  /** The plan's status page impact: its `componentStatus`, else its criticality's. */
  outage: OutageStatus;
  /** How often updates follow while a rollback runs; 0: none. */
  updateEveryMs: number;
}

/** The facts of a plan and the Communications it uses (their `updateEvery`, else the seeds' 5 minutes). */
export function messageFacts(
  plan: Pick<RollbackPlan, 'criticality' | 'communications'>,
  communications: Pick<CommunicationsPolicy, 'updateEveryMs'> | undefined,
): MessageFacts {
  return {
    criticality: plan.criticality,
    outage: outageOf(plan),
    updateEveryMs: communications?.updateEveryMs ?? DEFAULT_UPDATE_EVERY_MS,
  };
}

const OUTAGE_WORDS: Record<OutageStatus, string> = {
  degraded_performance: 'degraded performance',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
};

/** `HIGH`: the alerts' severity label, else the criticality, as seed 004 writes it. */
const severityOf = (label: string | undefined, criticality: Criticality): string =>
  (label ?? criticality).toUpperCase();

const previous = (version: string | null): string =>
  version === null ? 'the previous stable version' : `the previous stable version (${version})`;

/** What is being done, from where the rollback stands. */
function rollbackAction(state: StateName, toVersion: string): string {
  switch (state) {
    case 'pending':
      return `Initiating rollback to ${previous(toVersion)} automatically, unless cancelled`;
    case 'declared':
      return `Initiating rollback to ${previous(toVersion)}; awaiting approval`;
    case 'authorized':
    case 'executing':
      return `Rolling back to ${previous(toVersion)}`;
    case 'validating':
      return `Rolled back to ${toVersion}; validating`;
    case 'resolved':
      return `Rolled back to ${toVersion}`;
    case 'rejected':
    case 'cancelled':
      return `Rollback to ${toVersion} called off`;
    case 'aborted':
    case 'failed':
      return `Rollback to ${toVersion} did not complete`;
  }
}

/** ETA, RTO and updates: `from` is when the clock starts (the declaration), `at` the message. */
function timing(from: number, rtoMs: number | undefined, at: number, updateEveryMs: number) {
  const eta = rtoMs === undefined ? null : from + rtoMs;
  const next = updateEveryMs > 0 ? at + updateEveryMs : null;
  return {
    eta: eta === null ? null : new Date(eta).toISOString(),
    etaText: eta === null ? null : utcText(eta),
    rto: rtoMs === undefined ? null : formatDuration(rtoMs),
    updateEvery: updateEveryMs > 0 ? formatDuration(updateEveryMs) : null,
    nextUpdateAt: next === null ? null : new Date(next).toISOString(),
    nextUpdateText: next === null ? null : utcText(next),
  };
}

/**
 * `notice` is null for a message that belongs to no rollback notice (`incident-opened` of a
 * rollback declared without an incident); `at` is when it happened (epoch ms), for `at`, `atText`,
 * `duration` and the next update.
 */
export function communicationVars(
  view: RollbackView,
  notice: NotifyDetail | null,
  at: number,
  facts: MessageFacts,
): CommunicationVars {
  const startedAt = Date.parse(view.incidentStartedAt);
  const declaredAt = Date.parse(view.declaredAt);
  return {
    service: view.service,
    environment: view.environment,
    fromVersion: view.fromVersion,
    toVersion: view.toVersion,
    strategy: view.strategy,
    declaredBy: view.declaredBy,
    drill: view.drill,
    at: new Date(at).toISOString(),
    atText: utcText(at),
    duration: formatDuration(at - startedAt),
    rollback: {
      id: view.id,
      reason: view.reason,
      state: view.state,
      stateDetail: view.stateDetail,
      declaredAt: view.declaredAt,
      declaredAtText: utcText(declaredAt),
    },
    incident: { startedAt: view.incidentStartedAt, startedAtText: utcText(startedAt) },
    severity: severityOf(view.severity, facts.criticality),
    criticality: facts.criticality,
    issue: view.reason,
    impact: OUTAGE_WORDS[facts.outage],
    action: rollbackAction(view.state, view.toVersion),
    // The rollback's own RTO (kept at its declaration); a final rollback has no update to come.
    ...timing(declaredAt, view.rtoMs, at, view.outcome === null ? facts.updateEveryMs : 0),
    owner: view.owner ?? null,
    tier: tierOf(view, notice),
    approvals:
      notice !== null && 'approvals' in notice
        ? { count: notice.approvals.count, required: notice.approvals.required }
        : { count: view.approvals.length, required: null },
    approvers: view.approvals.map((a) => ({ user: a.user, role: a.role })),
    progress: {
      done: view.steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length,
      total: view.steps.length,
    },
    step: stepOf(view, notice),
    check: checkOf(view, notice),
    outcome: outcomeOf(view, notice),
  };
}

/** An incident an alert opened, as `incident-opened` tells it before any rollback exists. */
export type OpenedIncident = Pick<
  Incident,
  'id' | 'service' | 'environment' | 'startedAt' | 'openedAt' | 'alerts' | 'trigger' | 'severity'
>;

/**
 * The variables of `incident-opened` at the alert: what the incident and the plan say, with the
 * versions from the recorded deployments (`to` is the one before the current, the rollback's default
 * target). The ETA counts from when the incident opened (a rollback declared then would have it);
 * what only a rollback has is null.
 */
export function incidentVars(
  incident: OpenedIncident,
  plan: Pick<RollbackPlan, 'defaultStrategy' | 'rtoMs' | 'owner' | 'criticality' | 'communications'>,
  versions: { from: string | null; to: string | null },
  at: number,
  facts: MessageFacts,
): CommunicationVars {
  const trigger = incident.trigger;
  const strategy = trigger?.strategy ?? plan.defaultStrategy;
  return {
    service: incident.service,
    environment: incident.environment,
    fromVersion: versions.from,
    toVersion: versions.to,
    strategy,
    declaredBy: null,
    drill: false,
    at: new Date(at).toISOString(),
    atText: utcText(at),
    duration: formatDuration(at - incident.startedAt),
    rollback: {
      id: null,
      reason: null,
      state: null,
      stateDetail: null,
      declaredAt: null,
      declaredAtText: null,
    },
    incident: {
      startedAt: new Date(incident.startedAt).toISOString(),
      startedAtText: utcText(incident.startedAt),
    },
    severity: severityOf(incident.severity, facts.criticality),
    criticality: facts.criticality,
    issue: issueOf(incident),
    impact: OUTAGE_WORDS[facts.outage],
    action:
      trigger?.action === 'auto'
        ? `Initiating rollback to ${previous(versions.to)} automatically${trigger.delayMs > 0 ? ` in ${formatDuration(trigger.delayMs)}` : ''}, unless cancelled`
        : `Rollback to ${previous(versions.to)} proposed to the on-call engineer`,
    ...timing(incident.openedAt, plan.rtoMs, at, facts.updateEveryMs),
    owner: plan.owner ?? null,
    tier: { number: null, approver: null, notify: null },
    approvals: { count: 0, required: null },
    approvers: [],
    progress: { done: 0, total: 0 },
    step: { name: null, index: null, attempt: null, error: null },
    check: { name: null, status: null, detail: null },
    outcome: { code: null, reason: null, by: null },
  };
}

/** `HighErrorRate: 5xx above 5% on checkout (and 2 more alerts)`: the first firing alert says it. */
function issueOf(incident: Pick<Incident, 'alerts' | 'service'>): string {
  const firing = incident.alerts.filter((alert) => alert.status === 'firing');
  const first = firing[0] ?? incident.alerts[0];
  if (first === undefined) return `alerts fired for ${incident.service}`;
  const text =
    first.summary === '' || first.summary === first.name ? first.name : `${first.name}: ${first.summary}`;
  const more = firing.length - 1;
  return more > 0 ? `${text} (and ${more} more alert${more === 1 ? '' : 's'})` : text;
}

function tierOf(view: RollbackView, notice: NotifyDetail | null): CommunicationVars['tier'] {
  if (notice !== null && 'tier' in notice) {
    const { index, approver, notify } = notice.tier;
    return { number: index + 1, approver, notify: notify ?? null };
  }
  if (view.approver !== null)
    return { number: null, approver: view.approver.role, notify: view.approver.notify };
  return { number: null, approver: null, notify: null };
}

function stepOf(view: RollbackView, notice: NotifyDetail | null): CommunicationVars['step'] {
  const index =
    notice !== null && 'stepIndex' in notice
      ? notice.stepIndex
      : view.steps.findIndex((s) => s.status === 'running');
  const step = view.steps[index];
  if (step === undefined) return { name: null, index: null, attempt: null, error: null };
  const error =
    notice?.event === 'step-failed'
      ? notice.error
      : notice?.event === 'step-interrupted'
        ? INTERRUPTED
        : (step.error ?? null);
  return {
    name: step.name,
    index: index + 1,
    attempt: notice !== null && 'attempt' in notice ? notice.attempt : step.attempts,
    error,
  };
}

function checkOf(view: RollbackView, notice: NotifyDetail | null): CommunicationVars['check'] {
  const index = notice !== null && 'checkIndex' in notice ? notice.checkIndex : null;
  const failed = notice?.event === 'validation-failed' || notice?.event === 'stability-lost' ? notice : null;
  const check = index === null ? undefined : view.checks[index];
  if (check === undefined)
    // An alert ended the stabilisation window: it stands where a check would.
    return failed === null
      ? { name: null, status: null, detail: null }
      : { name: null, status: failed.status, detail: failed.detail };
  return {
    name: check.name,
    status: failed?.status ?? check.status,
    detail: failed?.detail ?? check.detail ?? null,
  };
}

function outcomeOf(view: RollbackView, notice: NotifyDetail | null): CommunicationVars['outcome'] {
  const final = notice !== null && 'reason' in notice ? notice : null;
  if (view.outcome === null && final === null) return { code: null, reason: null, by: null };
  return {
    code: view.outcome?.code ?? final?.event ?? null,
    reason: final?.reason ?? view.outcome?.reason ?? null,
    by: view.outcome?.by ?? null,
  };
}
