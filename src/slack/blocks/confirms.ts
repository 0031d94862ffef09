/**
 * The Slack `confirm` dialogs of the buttons that cannot be taken back: Reject, Abort, Skip, Accept,
 * and Approve in production. Each says what happens next, in the words of this rollback, so a
 * click at 3 a.m. is a decision and not a slip. The card and the thread's notices show the same
 * buttons: they ask the same question. Plain text (Slack shows no mrkdwn in a dialog).
 */
import type { ConfirmationDialog } from '@slack/web-api';
import type { RollbackView } from '../../app/rollback-view.js';
import { targetLine } from '../../domain/step-target.js';
import { confirm } from './kit.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `2 ("Switch traffic")`: a step as the dialog names it. */
const stepName = (view: RollbackView, index: number): string =>
  `${index + 1} ("${view.steps[index]?.name ?? '?'}")`;

/** Approving or rejecting happens before any step ran. */
export function rejectConfirm(view: RollbackView): ConfirmationDialog {
  const from = view.fromVersion === null ? 'the version it runs now' : view.fromVersion;
  return confirm(
    'Reject this rollback?',
    `Rejecting stops this rollback; nothing has run. ${view.service} stays on ${from}. Your name is recorded.`,
    'Reject',
  );
}

export function abortConfirm(view: RollbackView): ConfirmationDialog {
  const done = view.steps.filter((s) => s.status === 'succeeded').length;
  return confirm(
    'Abort this rollback?',
    `Aborting stops it here: no further step runs. ${done === 0 ? 'No step finished, but one that started may have changed something' : `The ${plural(done, 'step')} already done ${done === 1 ? 'is' : 'are'} NOT undone`}: ${view.service} may be half rolled back.`,
    'Abort',
  );
}

export function skipConfirm(view: RollbackView, index: number): ConfirmationDialog {
  const next =
    index + 1 < view.steps.length ? `step ${stepName(view, index + 1)} runs next` : 'validation comes next';
  return confirm(
    'Skip this step?',
    `Step ${stepName(view, index)} is marked skipped and not tried again (whatever it did so far stays); ${next}.`,
    'Skip it',
  );
}

export function acceptConfirm(view: RollbackView): ConfirmationDialog {
  return confirm(
    'Accept a failed validation?',
    `Accepting sets the failed check aside: ${view.service} counts as rolled back and the rollback resolves (after its stabilisation window, if the plan has one). Your name and role are recorded.`,
    'Accept',
  );
}

/**
 * Approve in production: whether this approval lets the steps run at once or another is still
 * needed, then what they change (the targets the card shows; the dialog cuts the end, not this).
 */
export function approveConfirm(
  view: RollbackView,
  approvalsRequired: number | undefined,
): ConfirmationDialog {
  const steps = view.steps.length === 1 ? 'one step' : `${view.steps.length} steps`;
  const start = view.steps.length === 1 ? 'starts' : 'start';
  const after = view.approvals.length + 1;
  const next =
    approvalsRequired === undefined
      ? `Approving lets the ${steps} run.`
      : after >= approvalsRequired
        ? `Your approval completes it: the ${steps} ${start} at once.`
        : `This is approval ${after} of ${approvalsRequired}: the ${steps} ${start} once ${approvalsRequired - after === 1 ? 'one more approver approves' : `${approvalsRequired - after} more approvers approve`}.`;
  const targets = view.steps.flatMap((step) => (step.target ? [targetLine(step.target)] : []));
  const what = targets.length > 0 ? targets.join('\n') : `${view.strategy}, to ${view.toVersion}`;
  return confirm(`Roll back ${view.service} in production?`, `${next}\n${what}`, 'Approve');
}
