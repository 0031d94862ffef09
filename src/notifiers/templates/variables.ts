/**
 * The values of a communication template, from the rollback as people see it (`RollbackView`) and
 * the notice being sent. Pure: the time of the notice is given, not read from a clock.
 */
import type { RollbackView } from '../../app/rollback-view.js';
import type { CommunicationVars } from '../../domain/communication-vars.js';
import { formatDuration } from '../../domain/duration.js';
import type { NotifyDetail } from '../../domain/rollback-types.js';
import { utcText } from '../../slack/blocks/text.js';

const INTERRUPTED =
  'interrupted: the bot restarted while this step ran; it was not re-run and waits for a decision';

/**
 * `notice` is null for a message that belongs to no rollback notice (`incident-opened`); `at` is
 * when it happened (epoch ms), for `at`, `atText` and `duration`.
 */
export function communicationVars(
  view: RollbackView,
  notice: NotifyDetail | null,
  at: number,
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
