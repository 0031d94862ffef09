/**
 * Messages in the rollback's thread: one per `notify` effect (DESIGN section 7), plus step output
 * as a code block. These page people (mentions of the members the rollback's own policy lists for
 * the tier's roles); the card does not. Pure: the caller passes the view, whom the tier pages and
 * any step output it has.
 */
import type { Button, KnownBlock } from '@slack/web-api';
import type { RollbackView } from '../../app/rollback-view.js';
import { formatDuration } from '../../domain/duration.js';
import type { Choice, NotifyDetail, TierNotice } from '../../domain/rollback-types.js';
import { ACTION_IDS, LIMITS, actions, button, confirm, context, fields, header, section } from './kit.js';
import type { TierPage } from '../paging.js';
import { notifyCaveat, pagedRole, roleMention, unheldText } from './paging-text.js';
import { abortConfirm, acceptConfirm, skipConfirm } from './confirms.js';
import { quote, versionsText } from './status-card.js';
import { escapeMrkdwn, mention, slackDate, truncate, truncateStart } from './text.js';

export interface ThreadMessage {
  text: string;
  blocks?: KnownBlock[];
}

/** A notify effect's detail; `by`/`at` when the caller has the whole effect. */
export type Notice = NotifyDetail & { by?: string; at?: number };

export interface NoticeOptions {
  /**
   * Whom the tier of a paging notice (approval requested, escalated, reminder) reaches, from the
   * rollback's policy; without it the roles are named, nobody is mentioned.
   */
  paging?: TierPage;
  /** Output lines of the step a step notice is about (already masked); the tail is shown. */
  output?: string[];
}

const esc = escapeMrkdwn;
const OUTPUT_EXCERPT_LINES = 10;
const OUTPUT_EXCERPT_CHARS = 1_000;

/** Output lines as a code block, keeping the tail (the end of a log says why it failed). */
export function renderStepOutput(stepName: string, lines: string[]): ThreadMessage {
  const title = `🧾 Output of *${esc(stepName)}*`;
  const head = truncate(title, 200);
  const body = lines.length === 0 ? '(no output)' : esc(lines.join('\n')).replace(/```/g, '`\u200b``');
  const room = LIMITS.sectionText - head.length - '\n```\n\n```'.length;
  const text = `${head}\n\`\`\`\n${truncateStart(body, room)}\n\`\`\``;
  return { text: truncate(`Output of ${esc(stepName)}`, LIMITS.fallbackText), blocks: [section(text)] };
}

function stepLabel(view: RollbackView, index: number): string {
  const step = view.steps[index];
  const name = step === undefined ? `#${index + 1}` : esc(step.name);
  return `step ${index + 1}/${view.steps.length} *${name}*`;
}

function checkLabel(view: RollbackView, index: number): string {
  const check = view.checks[index];
  return check === undefined ? `check ${index + 1}` : `*${esc(check.name)}*`;
}

function stepDuration(view: RollbackView, index: number): string {
  const step = view.steps[index];
  if (!step?.startedAt || !step.endedAt) return '';
  return ` in ${formatDuration(Date.parse(step.endedAt) - Date.parse(step.startedAt))}`;
}

/** `*Scale down blue*` (a step after resolution). */
function afterName(view: RollbackView, index: number): string {
  const step = view.afterSteps[index];
  return step === undefined ? `#${index + 1}` : `*${esc(step.name)}*`;
}

function afterDuration(view: RollbackView, index: number): string {
  const step = view.afterSteps[index];
  if (!step?.startedAt || !step.endedAt) return '';
  return ` in ${formatDuration(Date.parse(step.endedAt) - Date.parse(step.startedAt))}`;
}

const notRun = (skipped: number): string[] =>
  skipped === 0 ? [] : [`${skipped} later step${skipped === 1 ? '' : 's'} after resolution will not run.`];

const CHOICE_TEXT: Record<Choice, string> = {
  retry: 'Retry',
  skip: 'Skip',
  abort: 'Abort',
  revalidate: 'Re-validate',
  accept: 'Accept as is',
  continue: 'Continue',
};

/** Buttons for what the machine asks a human; the same action ids and values as the card. */
function choiceButtons(view: RollbackView, choices: Choice[], step: number | null): KnownBlock | null {
  const r = { rollbackId: view.id };
  const s = step === null ? r : { ...r, step };
  const buttons: Button[] = choices.map((choice) => {
    switch (choice) {
      case 'retry':
        return button(CHOICE_TEXT.retry, ACTION_IDS.retryStep, s, { style: 'primary' });
      case 'skip':
        return button(CHOICE_TEXT.skip, ACTION_IDS.skipStep, s, { confirm: skipConfirm(view, step ?? 0) });
      case 'revalidate':
        return button(CHOICE_TEXT.revalidate, ACTION_IDS.retryStep, r, { style: 'primary' });
      case 'accept':
        return button(CHOICE_TEXT.accept, ACTION_IDS.accept, r, { confirm: acceptConfirm(view) });
      case 'continue':
        return button(CHOICE_TEXT.continue, ACTION_IDS.continue, r, {
          confirm: confirm(
            'Go on although a watched metric breached?',
            'The next step runs. Your name is recorded.',
            'Continue',
          ),
        });
      case 'abort':
        return button(CHOICE_TEXT.abort, ACTION_IDS.abort, r, {
          style: 'danger',
          confirm: abortConfirm(view),
        });
    }
  });
  return buttons.length === 0 ? null : actions(buttons);
}

const choiceWords = (choices: Choice[]): string => choices.map((c) => CHOICE_TEXT[c]).join(' / ');

function tierText(tier: TierNotice, paging: TierPage | undefined): string {
  const until = tier.until === null ? '' : ` until ${slackDate(tier.until)}`;
  return `${pagedRole(tier.approver, paging?.approver)} or above may approve${until}`;
}

/** Nobody holds the tier's role: say so, and page the next role up (the same line in reminders). */
function unheldLines(paging: TierPage | undefined): string[] {
  const text = unheldText(paging?.approver, roleMention);
  return text === null ? [] : [text];
}

function fyiLines(tier: TierNotice, paging: TierPage | undefined): string[] {
  if (tier.notify === undefined) return [];
  return [`FYI ${pagedRole(tier.notify, paging?.notify)}${notifyCaveat(paging?.notify)}`];
}

/**
 * The ETA (declaration + the plan's RTO) passed before the rollback ended: said in the thread, and
 * the tier above the one in force is paged (its approver, and its notify role).
 */
function rtoPassed(
  rto: { eta: number; rtoMs: number },
  tier: TierNotice,
  view: RollbackView,
  paging: TierPage | undefined,
): ThreadMessage {
  return message([
    `⏰ The ETA has passed: the rollback of *${esc(view.service)}* (${esc(view.environment)}) should have been over by ${slackDate(rto.eta)} (RTO ${formatDuration(rto.rtoMs)} from the declaration). It is ${esc(view.stateDetail)}.`,
    `📣 Paging tier ${tier.index + 1}: ${tierText(tier, paging)}.`,
    ...unheldLines(paging),
    ...fyiLines(tier, paging),
  ]);
}

function message(lines: string[], extra: Array<KnownBlock | null> = []): ThreadMessage {
  const text = lines.join('\n');
  return {
    text: truncate(text, LIMITS.fallbackText),
    blocks: [section(text), ...extra.filter((b): b is KnownBlock => b !== null)],
  };
}

/** A final message on the seed's "ROLLBACK COMPLETE" model: a header and the four facts. */
function finalMessage(title: string, view: RollbackView, facts: Array<[string, string]>): ThreadMessage {
  const blocks: KnownBlock[] = [
    header(title),
    fields(facts.map(([k, v]) => `*${k}*\n${v}`)),
    context([`Rollback \`${esc(view.id)}\` · ${esc(view.service)} (${esc(view.environment)})`]),
  ];
  const text = truncate(`${title}\n${facts.map(([k, v]) => `${k}: ${v}`).join('\n')}`, LIMITS.fallbackText);
  return { text, blocks };
}

/** How a drill's thread notices are labelled, so nobody takes a rehearsal for the real thing. */
export const DRILL_MARKER = '🧪 *DRILL*';

export function renderNotice(notice: Notice, view: RollbackView, options: NoticeOptions = {}): ThreadMessage {
  const paging = options.paging;
  const who = (fallback: string): string => mention(notice.by ?? fallback);
  const elapsed = (): string =>
    notice.at === undefined ? '' : formatDuration(notice.at - Date.parse(view.declaredAt));
  const drill = view.drill ? ` ${DRILL_MARKER}` : '';
  const svc = `*${esc(view.service)}* (${esc(view.environment)})`;
  switch (notice.event) {
    case 'declared':
      return message([
        `📝 ${who(view.declaredBy)} declared a rollback of ${svc}${drill}: ${versionsText(view)} with \`${esc(view.strategy)}\``,
        quote(view.reason),
        ...(notice.autoStartAt === null
          ? []
          : [`⏳ Starts automatically ${slackDate(notice.autoStartAt)} unless someone presses *Cancel*.`]),
      ]);
    case 'approval-requested':
      return message([
        `🔐 Approval needed for the rollback of ${svc}: ${tierText(notice.tier, paging)}.`,
        ...unheldLines(paging),
        `Approvals: ${notice.approvals.count} of ${notice.approvals.required}. The request expires ${slackDate(notice.expiresAt)}.`,
        ...fyiLines(notice.tier, paging),
      ]);
    case 'approved':
      return message([
        `✅ ${mention(notice.approver)} approved as *${esc(notice.role)}* (${notice.approvals.count} of ${notice.approvals.required}).`,
      ]);
    case 'escalated':
      if (notice.rto !== undefined) return rtoPassed(notice.rto, notice.tier, view, paging);
      return message([
        `⏫ Escalated to tier ${notice.tier.index + 1}: ${tierText(notice.tier, paging)}.`,
        ...unheldLines(paging),
        ...fyiLines(notice.tier, paging),
      ]);
    case 'reminder':
      return message([
        `⏰ Reminder: the rollback of ${svc} still waits for approval (${notice.approvals.count} of ${notice.approvals.required}). ${tierText(notice.tier, paging)}.`,
        ...unheldLines(paging),
        `The request expires ${slackDate(notice.expiresAt)}.`,
      ]);
    case 'authorized':
      return message([
        notice.via === 'policy'
          ? `🔓 Authorized by the authority policy (automatic trigger). Starting the ${view.steps.length} steps.`
          : `🔓 Authorized. Starting the ${view.steps.length} steps.`,
      ]);
    case 'targets-changed':
      return message([
        `🎯 What the rollback of ${svc} would change is different now (someone deployed, or a target is gone): the card shows what would run.`,
        ...(notice.approvalsVoided === 0
          ? []
          : [
              `${notice.approvalsVoided} approval${notice.approvalsVoided === 1 ? '' : 's'} given before no longer count: approve again what the card shows.`,
            ]),
      ]);
    case 'step-started':
      return message([`▶️ ${stepLabel(view, notice.stepIndex)} started (attempt ${notice.attempt}).`]);
    case 'step-succeeded': {
      const excerpt =
        options.output === undefined || options.output.length === 0
          ? null
          : section(
              `\`\`\`\n${truncateStart(esc(options.output.slice(-OUTPUT_EXCERPT_LINES).join('\n')).replace(/```/g, '`\u200b``'), OUTPUT_EXCERPT_CHARS)}\n\`\`\``,
            );
      return message(
        [
          `✅ ${stepLabel(view, notice.stepIndex)} succeeded${stepDuration(view, notice.stepIndex)} (attempt ${notice.attempt}).`,
        ],
        [excerpt],
      );
    }
    case 'step-skipped':
      return message([
        `⏭️ ${stepLabel(view, notice.stepIndex)} skipped: ${esc(notice.why)} (\`when: ${esc(notice.condition).replace(/`/g, "'")}\`). The rollback goes on without it.`,
      ]);
    case 'step-failed': {
      const next =
        notice.next === 'retry'
          ? 'Retrying automatically.'
          : notice.next === 'abort'
            ? 'The plan says abort: the rollback stops here.'
            : `The plan asks a human: *${choiceWords(notice.choices)}*?`;
      return message(
        [
          `❌ ${stepLabel(view, notice.stepIndex)} failed (attempt ${notice.attempt}).`,
          quote(notice.error),
          next,
        ],
        [notice.next === 'ask' ? choiceButtons(view, notice.choices, notice.stepIndex) : null],
      );
    }
    case 'step-interrupted':
      return message(
        [
          `⚠️ ${stepLabel(view, notice.stepIndex)} was interrupted (attempt ${notice.attempt}): the bot restarted while this step ran; it was NOT re-run.`,
          `Check what it did, then choose: *${choiceWords(notice.choices)}*.`,
        ],
        [choiceButtons(view, notice.choices, notice.stepIndex)],
      );
    case 'watch-breached': {
      const watched = view.watches[notice.watchIndex]?.name ?? `watch ${notice.watchIndex + 1}`;
      return message(
        [
          `⚠️ *${esc(watched)}* breached while step ${notice.stepIndex + 1} ran: the next step waits until someone says continue or abort.`,
          quote(notice.detail),
          `Choose: *${choiceWords(notice.choices)}*.`,
        ],
        [choiceButtons(view, notice.choices, null)],
      );
    }
    case 'manual-check-requested':
      return message(
        [`📋 Manual check ${checkLabel(view, notice.checkIndex)}: do it, then press *Mark done*.`],
        [
          actions([
            button(
              'Mark done',
              ACTION_IDS.checkDone,
              { rollbackId: view.id, check: notice.checkIndex },
              { style: 'primary' },
            ),
          ]),
        ],
      );
    case 'validation-passed':
      return message([
        notice.accepted
          ? `✅ Validation accepted as is by ${who('system')}.`
          : `✅ All ${view.checks.length} checks passed.`,
        ...(notice.stabilizeUntil === null
          ? []
          : [`Watching ${svc} for stability until ${slackDate(notice.stabilizeUntil)}.`]),
      ]);
    case 'validation-failed':
      return message(
        [
          `❌ Check ${checkLabel(view, notice.checkIndex)} ${notice.status}.`,
          quote(notice.detail),
          `Choose: *${choiceWords(notice.choices)}*.`,
        ],
        [choiceButtons(view, notice.choices, null)],
      );
    case 'stability-lost':
      return message(
        [
          notice.alert === null
            ? `❌ ${svc} did not stay stable: check ${checkLabel(view, notice.checkIndex ?? 0)} ${notice.status} in round ${notice.rounds} of the stabilisation window (${notice.failures} failed run${notice.failures === 1 ? '' : 's'}, limit ${notice.failureLimit}).`
            : `❌ ${svc} did not stay stable: alert *${esc(notice.alert)}* fired during the stabilisation window.`,
          quote(notice.detail),
          `Choose: *${choiceWords(notice.choices)}*.`,
        ],
        [choiceButtons(view, notice.choices, null)],
      );
    case 'status-update': {
      const done = view.steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length;
      const since = elapsed();
      return message([
        `ℹ️ Status of the rollback of ${svc}: ${esc(view.stateDetail)}.`,
        `Steps done: ${done} of ${view.steps.length}${since === '' ? '' : ` · ${since} since it was declared`}.`,
        ...view.watches
          .filter((watch) => watch.at !== null)
          .map(
            (watch) =>
              `Watching ${esc(watch.name)}: ${watch.status}${watch.detail === undefined ? '' : ` (${esc(truncate(watch.detail, 200))})`}.`,
          ),
      ]);
    }
    case 'after-steps-scheduled': {
      const due = notice.dueAt.map((at, i) => `${afterName(view, i)} ${slackDate(at)}`);
      return message([
        `⏭️ ${due.length === 1 ? 'One step runs' : `${due.length} steps run`} after the resolution of ${svc}, in this order: ${due.join(', ')}.`,
        'A new rollback of the service and environment calls them off.',
      ]);
    }
    case 'after-step-started':
      return message([`▶️ After resolution: ${afterName(view, notice.afterIndex)} started.`]);
    case 'after-step-succeeded':
      return message([
        `✅ After resolution: ${afterName(view, notice.afterIndex)} succeeded${afterDuration(view, notice.afterIndex)}.`,
      ]);
    case 'after-step-failed':
      return message([
        `❌ After resolution: ${afterName(view, notice.afterIndex)} failed${afterDuration(view, notice.afterIndex)}.`,
        quote(notice.error),
        ...notRun(notice.skipped),
        `The rollback stays resolved: do what is still needed by hand.`,
      ]);
    case 'after-step-interrupted':
      return message([
        `⚠️ After resolution: ${afterName(view, notice.afterIndex)} was interrupted: the bot restarted while it ran; it was NOT re-run.`,
        ...notRun(notice.skipped),
        `The rollback stays resolved: check what it did, and do what is still needed by hand.`,
      ]);
    case 'after-steps-cancelled':
      return message([
        `🚫 Steps after resolution called off: rollback \`${esc(notice.supersededBy)}\` of ${svc} was declared.`,
        ...(notice.interrupted === null
          ? []
          : [`${afterName(view, notice.interrupted)} was stopped while it ran: check what it did.`]),
        ...(notice.skipped === 0
          ? []
          : [`${notice.skipped} step${notice.skipped === 1 ? '' : 's'} after resolution will not run.`]),
      ]);
    case 'resolved':
      return finalMessage(`✅ ROLLBACK COMPLETE${view.drill ? ' (DRILL)' : ''}`, view, [
        ['Issue', truncate(esc(view.reason), 1_000)],
        ['Resolution', `Rolled back ${esc(view.service)} to version \`${esc(view.toVersion)}\``],
        ['Status', esc(notice.reason)],
        ['Next', 'Post-incident review scheduled; the timeline is in this thread and at /api/rollbacks.'],
        ...(elapsed() === '' ? [] : [['Took', elapsed()] as [string, string]]),
      ]);
    case 'failed':
      return finalMessage(`❌ ROLLBACK FAILED${view.drill ? ' (DRILL)' : ''}`, view, [
        ['Issue', truncate(esc(view.reason), 1_000)],
        ['Why', truncate(esc(notice.reason), 1_000)],
        ['Status', `${esc(view.service)} may be partly rolled back: see the steps on the card.`],
        ['Next', 'Escalate: decide on a fix forward or a manual rollback.'],
      ]);
    case 'aborted':
      return message([
        `🛑 Rollback aborted by ${who(view.outcome?.by ?? 'system')}. Steps already done were NOT undone.`,
        quote(notice.reason),
      ]);
    case 'cancelled':
      return message([
        `🚫 Rollback cancelled by ${who(view.outcome?.by ?? 'system')}.`,
        quote(notice.reason),
      ]);
    case 'rejected':
      return message([`⛔ Rollback rejected by ${who(view.outcome?.by ?? 'system')}.`, quote(notice.reason)]);
    case 'expired':
      return message([
        `⌛ The approval request expired: nobody approved in time. The rollback will not run.`,
        quote(notice.reason),
      ]);
  }
}
