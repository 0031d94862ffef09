/**
 * The status card: one message per rollback, re-drawn (chat.update) on every change. It shows what
 * is being rolled back, where it stands, who may act now, and only the buttons the machine would
 * accept at this moment (`eventsAccepted`). Pure: the time comes in as `now`.
 *
 * Role names are bold text here, not user-group mentions: the card is re-drawn often and is not the
 * place to page people; the thread notices (`thread-messages.ts`) do the paging.
 */
import { targetLine } from '../../domain/step-target.js';
import type { Button, KnownBlock } from '@slack/web-api';
import type { RollbackView } from '../../app/rollback-view.js';
import { formatDuration } from '../../domain/duration.js';
import { CHECK_EMOJI, STEP_EMOJI, stateEmoji } from './emoji.js';
import {
  ACTION_IDS,
  LIMITS,
  actions,
  button,
  confirm,
  context,
  divider,
  fields,
  header,
  section,
} from './kit.js';
import { ownershipText } from './ownership.js';
import { DATE_FORMATS, escapeMrkdwn, mention, slackDateIso, truncate } from './text.js';
import type { TierPage } from '../paging.js';
import { notifyCaveat, roleName, unheldText } from './paging-text.js';
import { abortConfirm, acceptConfirm, approveConfirm, rejectConfirm, skipConfirm } from './confirms.js';

export interface StatusCardInput {
  view: RollbackView;
  /** The plan's limitations, acknowledged by whoever approves. */
  limitations: string[];
  /** `eventsAccepted(snapshot)`: which buttons to show. */
  acceptedEvents: readonly string[];
  now: number;
  /** Approvals the environment needs (policy `approvalsRequired`); shown as "1 of 2" when given. */
  approvalsRequired?: number;
  /** Blocks the card may take (default: a whole message); less when it shares its incident's message. */
  maxBlocks?: number;
  /** Whom the tier in force pages, while approval is pending: the card says when nobody holds a role. */
  paging?: TierPage;
}

export interface RenderedMessage {
  /** Fallback for notifications and clients without blocks. */
  text: string;
  blocks: KnownBlock[];
}

type View = RollbackView;
type Step = View['steps'][number];
type Check = View['checks'][number];

/** Longest error or detail shown under a step or check; the thread has the rest. */
const DETAIL_MAX = 500;
/** Checks listed one per block before the rest are summarised. */
const MAX_CHECK_BLOCKS = 10;

const esc = escapeMrkdwn;
const code = (text: string): string => `\`${esc(text).replace(/`/g, "'")}\``;
/** A multi-line quote of user text: escaped, each line prefixed. */
export const quote = (text: string, max = DETAIL_MAX): string =>
  truncate(esc(text), max)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

export function versionsText(view: View): string {
  return `${view.fromVersion === null ? '_unknown_' : code(view.fromVersion)} → ${code(view.toVersion)}`;
}

export function fallbackText(view: View): string {
  const drill = view.drill ? ' [DRILL]' : '';
  const from = view.fromVersion ?? 'unknown';
  return truncate(
    esc(
      `${stateEmoji(view.state)} Rollback of ${view.service} (${view.environment})${drill} ${from} → ${view.toVersion}: ${view.stateDetail}`,
    ),
    LIMITS.fallbackText,
  );
}

function stepLine(view: View, step: Step, index: number, now: number): string {
  const parts = [
    `${STEP_EMOJI[step.status]} *${index + 1}. ${esc(step.name)}*`,
    code(step.uses),
    // Skipped by its own `when`, not by a person: say what the condition found.
    step.status === 'skipped' && step.skipReason !== undefined
      ? `skipped: ${esc(step.skipReason)}`
      : step.status,
  ];
  if (step.attempts > 1 || step.status === 'failed') parts.push(`attempt ${step.attempts}`);
  const started = ms(step.startedAt);
  const ended = ms(step.endedAt);
  if (started !== null && ended !== null) parts.push(formatDuration(ended - started));
  else if (started !== null && step.status === 'running')
    parts.push(`running for ${formatDuration(now - started)}`);
  let text = parts.join(' · ');
  if (step.status === 'interrupted') {
    text += '\n_The bot restarted while this step ran; it was NOT re-run._';
  }
  // Before it is reached, approvers see that this step may not run.
  if (step.when !== undefined && step.status === 'pending') text += `\n❔ _only when_ ${code(step.when)}`;
  if (step.target !== undefined) text += `\n🎯 ${esc(targetLine(step.target))}`;
  if (step.targetProblem !== undefined) {
    text += `\n⛔ _Cannot run yet:_ ${esc(step.targetProblem)}\n_Fix it, then Approve (it reads the target again), or Cancel._`;
  }
  if (step.error !== undefined) text += `\n${quote(step.error)}`;
  return text;
}

function countByStatus(steps: Array<{ status: string }>): string {
  const counts = new Map<string, number>();
  for (const s of steps) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
}

/** The step that waits for Retry / Skip: the first failed or interrupted one. */
function decisionStep(view: View, accepted: readonly string[]): number | null {
  if (view.state !== 'executing') return null;
  if (!accepted.includes('RETRY_STEP') && !accepted.includes('SKIP_STEP')) return null;
  const index = view.steps.findIndex((s) => s.status === 'failed' || s.status === 'interrupted');
  return index === -1 ? null : index;
}

function stepButtons(view: View, index: number, accepted: readonly string[]): KnownBlock {
  const value = { rollbackId: view.id, step: index };
  const buttons: Button[] = [];
  if (accepted.includes('RETRY_STEP')) {
    buttons.push(button(`Retry step ${index + 1}`, ACTION_IDS.retryStep, value, { style: 'primary' }));
  }
  if (accepted.includes('SKIP_STEP')) {
    buttons.push(
      button(`Skip step ${index + 1}`, ACTION_IDS.skipStep, value, { confirm: skipConfirm(view, index) }),
    );
  }
  return actions(buttons, `steps:${index}`);
}

/** Steps in at most `budget` blocks: all of them, or a window around the active step plus summaries. */
function stepBlocks(view: View, input: StatusCardInput, budget: number): KnownBlock[] {
  const { steps } = view;
  const decision = decisionStep(view, input.acceptedEvents);
  const avail = budget - (decision === null ? 0 : 1);
  const line = (i: number): KnownBlock => section(stepLine(view, steps[i]!, i, input.now));
  const out: KnownBlock[] = [];
  let start = 0;
  let end = steps.length;
  if (steps.length > avail) {
    const shown = Math.max(1, avail - 2);
    let focus = steps.findIndex((s) => s.status !== 'succeeded' && s.status !== 'skipped');
    if (focus === -1) focus = steps.length - 1;
    start = Math.min(Math.max(0, focus - 2), steps.length - shown);
    end = start + shown;
  }
  if (start > 0) {
    out.push(section(`… steps 1–${start}: ${countByStatus(steps.slice(0, start))}`));
  }
  for (let i = start; i < end; i++) {
    out.push(line(i));
    if (i === decision) out.push(stepButtons(view, i, input.acceptedEvents));
  }
  if (end < steps.length) {
    out.push(section(`… and ${steps.length - end} more steps (${countByStatus(steps.slice(end))})`));
  }
  return out;
}

/** Error or note under an after-step: shorter than a step's, several share one block. */
const AFTER_DETAIL_MAX = 300;

function afterLine(step: View['afterSteps'][number], index: number, now: number): string {
  const parts = [
    `${STEP_EMOJI[step.status]} *${index + 1}. ${esc(step.name)}*`,
    code(step.uses),
    step.status,
  ];
  const started = ms(step.startedAt);
  const ended = ms(step.endedAt);
  if (step.status === 'pending') {
    parts.push(
      step.dueAt === null
        ? `${formatDuration(step.delayMs)} after resolution`
        : `due ${slackDateIso(step.dueAt, DATE_FORMATS.timeSecs)}`,
    );
  } else if (started !== null && ended !== null) parts.push(formatDuration(ended - started));
  else if (started !== null && step.status === 'running')
    parts.push(`running for ${formatDuration(now - started)}`);
  let text = parts.join(' · ');
  if (step.error !== undefined) text += `\n${quote(step.error, AFTER_DETAIL_MAX)}`;
  if (step.note !== undefined) text += `\n_${esc(truncate(step.note, AFTER_DETAIL_MAX))}_`;
  return text;
}

/**
 * The steps after resolution, in one block whatever their number (the card's 50 blocks go to the
 * steps): what is planned, when each is due, how each went. A failure here leaves it resolved.
 */
function afterBlocks(view: View, now: number): KnownBlock[] {
  if (view.afterSteps.length === 0) return [];
  const failed = view.afterSteps.some((s) => s.status === 'failed' || s.status === 'interrupted');
  const head = `*After resolution* (${countByStatus(view.afterSteps)})${failed ? ' · _the rollback stays resolved_' : ''}`;
  const lines = view.afterSteps.map((step, index) => afterLine(step, index, now));
  return [section(truncate([head, ...lines].join('\n'), LIMITS.sectionText))];
}

function checkLine(view: View, check: Check, index: number): string {
  let text = `${CHECK_EMOJI[check.status]} *${index + 1}. ${esc(check.name)}* · ${check.kind} · ${check.status}`;
  if (check.by !== undefined) text += ` · ${mention(check.by)}`;
  if (check.at !== null && check.status !== 'pending')
    text += ` ${slackDateIso(check.at, DATE_FORMATS.timeSecs)}`;
  if (view.state === 'validating' && check.kind === 'manual' && check.status === 'pending')
    text += '\n_Waiting for someone to do this and mark it done._';
  if (check.detail !== undefined) text += `\n${quote(check.detail)}`;
  return text;
}

function checkBlocks(view: View, input: StatusCardInput): KnownBlock[] {
  const { checks } = view;
  const canMark = input.acceptedEvents.includes('MANUAL_DONE');
  const shown = checks.length > MAX_CHECK_BLOCKS ? MAX_CHECK_BLOCKS - 1 : checks.length;
  const out: KnownBlock[] = checks
    .slice(0, shown)
    .map((check, i) =>
      section(
        checkLine(view, check, i),
        canMark && check.kind === 'manual' && check.status === 'pending'
          ? button('Mark done', ACTION_IDS.checkDone, { rollbackId: view.id, check: i }, { style: 'primary' })
          : undefined,
      ),
    );
  if (shown < checks.length) {
    out.push(section(`… and ${checks.length - shown} more checks (${countByStatus(checks.slice(shown))})`));
  }
  return out;
}

const WATCH_EMOJI: Record<View['watches'][number]['status'], string> = {
  pending: '⚪',
  running: '🔄',
  ok: '✅',
  breached: '⚠️',
  inconclusive: '❔',
};

/** The metrics watched while the steps run: each one's last sample, and a hold if one breached. */
function watchBlock(view: View): KnownBlock | null {
  if (view.watches.length === 0) return null;
  const lines = view.watches.map((watch) => {
    const when = watch.at === null ? '' : ` ${slackDateIso(watch.at, DATE_FORMATS.timeSecs)}`;
    const detail = watch.detail === undefined ? '' : `: ${esc(truncate(watch.detail, 200))}`;
    return `${WATCH_EMOJI[watch.status]} ${esc(watch.name)}${detail}${when}`;
  });
  const hold =
    view.watchHold === null
      ? []
      : [`⏸️ *${esc(view.watchHold.watch)}* breached: the next step waits for *Continue* or *Abort*.`];
  return section(['👁️ *Watching*', ...lines, ...hold].join('\n'));
}

/** The stabilisation window: how long is left, what the rounds of checks found so far. */
function stabilizationBlock(view: View, now: number): KnownBlock | null {
  const window = view.stabilization;
  if (window === null) return null;
  const until = Date.parse(window.until);
  const running = view.state === 'validating' && window.endedBy === null && until > now;
  const head = running
    ? `⏳ *Stabilising* until ${slackDateIso(window.until, DATE_FORMATS.timeSecs)} (${formatDuration(until - now)} left)`
    : window.endedBy === null
      ? `*Stabilisation* ${slackDateIso(window.startedAt, DATE_FORMATS.timeSecs)} to ${slackDateIso(window.until, DATE_FORMATS.timeSecs)}`
      : `❌ *Stabilisation* ended early by ${esc(window.endedBy)}`;
  const rounds = `${window.rounds} round${window.rounds === 1 ? '' : 's'} of checks every ${formatDuration(window.everyMs)} · ${window.failures} failed (limit ${window.failureLimit})`;
  const last =
    window.last.length === 0
      ? []
      : [
          `Last: ${window.last
            .map(
              (r) => `${CHECK_EMOJI[r.status]} ${esc(r.check)} ${slackDateIso(r.at, DATE_FORMATS.timeSecs)}`,
            )
            .join(' · ')}`,
        ];
  return section([head, rounds, ...last].join('\n'));
}

function approverBlock(view: View, input: StatusCardInput): KnownBlock | null {
  const { approver } = view;
  if (approver === null) return null;
  let text = `🔐 *Who may approve now:* *${esc(approver.role)}* or above`;
  text +=
    approver.until === null
      ? ' (the last tier: no further escalation)'
      : ` until ${slackDateIso(approver.until)}, then the next tier`;
  const unheld = unheldText(input.paging?.approver, (role) => roleName(role.name));
  if (unheld !== null) text += `\n${unheld}`;
  if (approver.notify !== null) {
    text += `\n📣 Notified: *${esc(approver.notify)}*${notifyCaveat(input.paging?.notify)}`;
  }
  const count = view.approvals.length;
  const required = input.approvalsRequired;
  text += `\n*Approvals:* ${count}${required === undefined ? '' : ` of ${required} required`}`;
  return section(text);
}

function approvalsBlock(view: View): KnownBlock | null {
  if (view.approvals.length === 0) return null;
  const lines = view.approvals
    .slice(0, 10)
    .map(
      (a) =>
        `✅ ${mention(a.user)} as *${esc(a.role)}* · tier ${a.tier + 1} · minute ${a.minute} · ${slackDateIso(a.at, DATE_FORMATS.timeSecs)}`,
    );
  if (view.approvals.length > 10) lines.push(`… and ${view.approvals.length - 10} more`);
  return section(`*Approved by*\n${lines.join('\n')}`);
}

function limitationsBlock(limitations: string[]): KnownBlock | null {
  if (limitations.length === 0) return null;
  return section(
    `⚠️ *Limitations: acknowledge before approving*\n${limitations.map((l) => `• ${esc(l)}`).join('\n')}`,
  );
}

/**
 * The ETA from the plan's RTO (none without one): passed while the rollback still runs, and once it
 * ended, whether it was met.
 */
function etaField(view: View, now: number): string[] {
  if (view.eta === undefined) return [];
  const eta = Date.parse(view.eta);
  const rto = view.rtoMs === undefined ? '' : ` (RTO ${formatDuration(view.rtoMs)})`;
  const when = `${slackDateIso(view.eta, DATE_FORMATS.timeSecs)}${rto}`;
  if (view.outcome !== null) {
    const late = Date.parse(view.outcome.at) - eta;
    return [`*ETA*\n${when} · ${late <= 0 ? 'met' : `missed by ${formatDuration(late)}`}`];
  }
  return now >= eta
    ? [`*ETA*\n⏰ *passed* ${formatDuration(now - eta)} ago: ${when}`]
    : [`*ETA*\n${when}, in ${formatDuration(eta - now)}`];
}

/** The plan's contacts and links (the owner is a field above); none listed, no block. */
function contactsBlock(view: View): KnownBlock[] {
  const text = ownershipText({ contacts: view.contacts, links: view.links }, { groupMentions: false });
  return text === null ? [] : [context([text])];
}

function outcomeBlock(view: View): KnownBlock | null {
  const { outcome } = view;
  if (outcome === null) return null;
  const took = Date.parse(outcome.at) - Date.parse(view.declaredAt);
  return section(
    `${stateEmoji(view.state)} *Outcome: ${esc(outcome.code)}* after ${formatDuration(took)}\n` +
      `${quote(outcome.reason)}\nby ${mention(outcome.by)} ${slackDateIso(outcome.at)}`,
  );
}

/**
 * Approve names the targets it was drawn with (a click after they changed is refused); in
 * production it asks once more, saying what happens next and what will change.
 */
function approveButton(view: View, approvalsRequired: number | undefined): Button {
  const value = { rollbackId: view.id, ...(view.digest === undefined ? {} : { digest: view.digest }) };
  if (view.environment !== 'production' || view.drill) {
    return button('Approve', ACTION_IDS.approve, value, { style: 'primary' });
  }
  return button('Approve', ACTION_IDS.approve, value, {
    style: 'primary',
    confirm: approveConfirm(view, approvalsRequired),
  });
}

function mainButtons(view: View, input: StatusCardInput): KnownBlock | null {
  const accepted = input.acceptedEvents;
  const r = { rollbackId: view.id };
  const has = (event: string): boolean => accepted.includes(event);
  const buttons: Button[] = [];
  if (has('APPROVE')) buttons.push(approveButton(view, input.approvalsRequired));
  if (has('START_NOW')) buttons.push(button('Start now', ACTION_IDS.startNow, r, { style: 'primary' }));
  if (view.state === 'validating' && has('RETRY_STEP')) {
    buttons.push(button('Re-validate', ACTION_IDS.retryStep, r, { style: 'primary' }));
  }
  // Taken in every executing state (a hold may be lifted while a step runs), asked only when one is.
  if (has('CONTINUE') && view.watchHold !== null) {
    buttons.push(
      button('Continue', ACTION_IDS.continue, r, {
        confirm: confirm(
          'Go on although a watched metric breached?',
          'The next step runs. Your name is recorded.',
          'Continue',
        ),
      }),
    );
  }
  if (has('ACCEPT')) {
    buttons.push(button('Accept as is', ACTION_IDS.accept, r, { confirm: acceptConfirm(view) }));
  }
  if (has('REJECT')) {
    buttons.push(button('Reject', ACTION_IDS.reject, r, { style: 'danger', confirm: rejectConfirm(view) }));
  }
  if (has('CANCEL')) {
    buttons.push(
      button('Cancel', ACTION_IDS.cancel, r, {
        style: 'danger',
        confirm: confirm(
          'Cancel this rollback?',
          `The rollback of ${view.service} will not run.`,
          'Cancel it',
        ),
      }),
    );
  }
  if (has('ABORT')) {
    buttons.push(button('Abort', ACTION_IDS.abort, r, { style: 'danger', confirm: abortConfirm(view) }));
  }
  return buttons.length === 0 ? null : actions(buttons, 'rollback');
}

export function renderStatusCard(input: StatusCardInput): RenderedMessage {
  const { view, now } = input;
  const drill = view.drill ? ' · 🧪 DRILL' : '';
  const incidentAge = now - Date.parse(view.incidentStartedAt);
  const top: KnownBlock[] = [
    header(`${stateEmoji(view.state)} Rollback: ${view.service} (${view.environment})${drill}`),
    fields([
      `*Versions*\n${versionsText(view)}`,
      `*Strategy*\n${code(view.strategy)}`,
      `*State*\n${stateEmoji(view.state)} ${esc(view.stateDetail)}`,
      `*Declared by*\n${mention(view.declaredBy)} ${slackDateIso(view.declaredAt)}`,
      `*Incident started*\n${slackDateIso(view.incidentStartedAt)} (${formatDuration(incidentAge)} ago)`,
      `*Rollback*\n${code(view.id)}`,
      ...(view.owner === undefined ? [] : [`*Owner*\n${esc(view.owner)}`]),
      ...etaField(view, now),
    ]),
    section(`*Reason*\n${quote(view.reason, 2_000)}`),
    ...[approverBlock(view, input), approvalsBlock(view), limitationsBlock(input.limitations)].filter(
      (b): b is KnownBlock => b !== null,
    ),
    ...contactsBlock(view),
  ];
  if (view.drill) {
    top.push(context(['🧪 This is a *drill*: a practice run of the plan, not an incident.']));
  }
  const tail: KnownBlock[] = [
    ...[outcomeBlock(view), mainButtons(view, input)].filter((b): b is KnownBlock => b !== null),
    context([
      `Rollback ${code(view.id)} · card v${view.version} · updated ${slackDateIso(new Date(now).toISOString(), DATE_FORMATS.timeSecs)}`,
    ]),
  ];
  const stabilization = stabilizationBlock(view, now);
  const checks =
    view.checks.length === 0 && stabilization === null
      ? []
      : [
          divider(),
          section('*Validation*'),
          ...checkBlocks(view, input),
          ...(stabilization === null ? [] : [stabilization]),
        ];
  const watching = watchBlock(view);
  const stepsHead: KnownBlock[] = [
    divider(),
    section(`*Steps* (${countByStatus(view.steps) || 'none'})`),
    ...(watching === null ? [] : [watching]),
  ];
  const after = afterBlocks(view, now);
  const budget =
    (input.maxBlocks ?? LIMITS.messageBlocks) -
    top.length -
    tail.length -
    checks.length -
    stepsHead.length -
    after.length;
  const blocks = [...top, ...stepsHead, ...stepBlocks(view, input, budget), ...after, ...checks, ...tail];
  return { text: fallbackText(view), blocks };
}
