/**
 * The post-mortem draft posted in the rollback's thread when it ends (resolved, failed or aborted):
 * the seed's "Rollback Post-Mortem Template" filled with what the bot knows (summary, impact facts,
 * the exact timeline with each event's time to the second and its actor) and prompts where people
 * must write (impact, root cause, action items, lessons). Pure.
 */
import type { KnownBlock } from '@slack/web-api';
import type { RollbackView } from '../../app/rollback-view.js';
import { formatDuration } from '../../domain/duration.js';
import type { TimelineEvent } from '../../domain/post-mortem-timeline.js';
import { AUDIT_CHAIN_SINCE, versionRanges, type AuditVerdict } from '../../lib/audit-chain.js';
import { LIMITS, context, divider, header, section } from './kit.js';
import type { ThreadMessage } from './thread-messages.js';
import { escapeMrkdwn, slackDate, truncate } from './text.js';

const esc = escapeMrkdwn;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
/** Room for the header, summary and closing sections within Slack's 50 blocks. */
const MAX_TIMELINE_BLOCKS = 36;
const CHUNK_CHARS = LIMITS.sectionText - 100;
const DETAIL_CHARS = 300;
const TEXT_CHARS = 20_000;

/** The actor as the audit trail names it: a mention for a person, else `policy` / `system`. */
export function actorText(by: string): string {
  return USER_ID.test(by) ? `<@${by}>` : `\`${esc(by)}\``;
}

const quoted = (text: string): string => `“${truncate(esc(text.replace(/\s+/g, ' ').trim()), DETAIL_CHARS)}”`;

function describe(event: TimelineEvent, view: RollbackView): string {
  switch (event.kind) {
    case 'incident-started':
      return event.fromAlert
        ? 'Issue detected: the alert fired (incident start)'
        : 'Issue detected (incident start taken as the declaration: no alert opened it)';
    case 'declared':
      return `Rollback initiated: declared \`${esc(view.fromVersion ?? '?')}\` → \`${esc(view.toVersion)}\` with \`${esc(view.strategy)}\``;
    case 'approved': {
      const role = event.role === null ? 'approved' : `Approved as *${esc(event.role)}*`;
      const where =
        event.tier === null || event.minute === null
          ? ''
          : ` (tier ${event.tier + 1}, minute ${event.minute} of the incident)`;
      return `${role}${where}`;
    }
    case 'authorized':
      return event.via === 'policy'
        ? 'Authorised by the authority policy (automatic trigger)'
        : 'Authorised: the approvals required are complete';
    case 'started-now':
      return 'Started at once (the automatic countdown was skipped)';
    case 'escalated':
      return 'Approval escalated to the next authority tier';
    case 'rto-passed':
      return 'ETA passed (the RTO ran out before the rollback ended): the next tier was paged';
    case 'step': {
      const name = `step ${event.step + 1}/${view.steps.length} *${esc(event.name)}*`;
      const attempt = event.attempt === undefined ? '' : ` (attempt ${event.attempt})`;
      switch (event.status) {
        case 'started':
          return `▶️ ${name} started${attempt}`;
        case 'succeeded':
          return `✅ ${name} succeeded${attempt}`;
        case 'failed':
          return `❌ ${name} failed${attempt}${event.error === undefined ? '' : `: ${quoted(event.error)}`}`;
        case 'interrupted':
          return `⚠️ ${name} interrupted${attempt} (the bot restarted while it ran; not re-run)`;
        case 'skipped':
          return `⏭️ ${name} skipped${event.reason === undefined ? '' : ` by its condition: ${esc(event.reason)}`}`;
        case 'retry':
          return `🔁 retry of ${name} requested`;
      }
      break;
    }
    case 'check': {
      const name = `check *${esc(event.name)}*`;
      const detail = event.detail === undefined ? '' : `: ${quoted(event.detail)}`;
      switch (event.status) {
        case 'passed':
          return `✅ ${name} passed${detail}`;
        case 'failed':
          return `❌ ${name} failed${detail}`;
        case 'inconclusive':
          return `❔ ${name} inconclusive${detail}`;
        case 'done':
          return `✅ ${name} marked done`;
      }
      break;
    }
    case 'validation-accepted':
      return `Failed validation accepted${event.role === null ? '' : ` as *${esc(event.role)}*`}`;
    case 'validated':
      return 'Validated: every check passed';
    case 'ended':
      return `${event.outcome === 'resolved' ? '🏁 Rollback completed: *resolved*' : `🏁 Rollback ended: *${event.outcome}*`} (${quoted(event.reason)})`;
  }
}

export function timelineLine(event: TimelineEvent, view: RollbackView): string {
  return `• ${slackDate(event.at)} — ${describe(event, view)} — by ${actorText(event.by)}`;
}

/** Lines packed into as few sections as fit; past the block budget the rest is named, not dropped silently. */
function timelineBlocks(lines: string[], view: RollbackView): KnownBlock[] {
  const chunks: string[] = [];
  let current = '*Timeline*';
  for (const line of lines) {
    if (current.length + 1 + line.length > CHUNK_CHARS) {
      chunks.push(current);
      current = line;
    } else current = `${current}\n${line}`;
  }
  chunks.push(current);
  const shown: KnownBlock[] = chunks.slice(0, MAX_TIMELINE_BLOCKS).map((c) => section(c));
  if (chunks.length > MAX_TIMELINE_BLOCKS) {
    shown.push(
      context([
        `The timeline goes on: the whole of it is at \`GET /api/rollbacks/${esc(view.id)}\` (\`timeline[]\`).`,
      ]),
    );
  }
  return shown;
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** Enough of the head hash to compare by eye with `rollback-bot audit verify`, and hard to forge. */
export const HEAD_SHOWN = 16;

/**
 * Whether the timeline above is the stored audit as it was written (its hash chain holds). The
 * head hash posted here also anchors the chain outside Redis: a later rewrite disagrees with it.
 */
export function auditLine(verdict: AuditVerdict, rollbackId: string): string {
  const check = `\`npx rollback-bot audit verify ${esc(rollbackId)}\``;
  switch (verdict.status) {
    case 'verified': {
      const unchained =
        verdict.unchained.length === 0
          ? ''
          : `; entries ${versionRanges(verdict.unchained)} were written before rollback-bot ${AUDIT_CHAIN_SINCE} and carry no hash`;
      return `🔒 Timeline verified: the audit chain of its ${verdict.entries} entries holds${unchained}. Head \`${verdict.head.slice(0, HEAD_SHOWN)}\` (check again with ${check}).`;
    }
    case 'unchained':
      return `Timeline not verified: its ${verdict.entries} audit entries were written before rollback-bot ${AUDIT_CHAIN_SINCE} and carry no hash.`;
    case 'broken': {
      const which =
        verdict.version === null
          ? `entry ${verdict.index + 1}`
          : `entry ${verdict.index + 1} (version ${verdict.version})`;
      const when = verdict.at === null ? '' : ` of ${slackDate(verdict.at)}`;
      return `🚨 Timeline NOT verified: audit ${which}${when} does not hold: ${esc(verdict.problem)}. The stored record may have been altered; check with ${check}.`;
    }
  }
}

const ACTION_ITEMS = [
  'Fix root cause issue',
  'Improve monitoring/alerting',
  'Update testing procedures',
  'Enhance deployment pipeline',
  'Update documentation',
  'Train team on lessons learned',
];

export function renderPostMortem(
  view: RollbackView,
  timeline: readonly TimelineEvent[],
  audit: AuditVerdict,
): ThreadMessage {
  const start = Date.parse(view.incidentStartedAt);
  const declared = Date.parse(view.declaredAt);
  const end = view.outcome === null ? null : Date.parse(view.outcome.at);
  const date = new Date(start).toISOString().slice(0, 10);
  const drill = view.drill ? ' (DRILL)' : '';
  const title = `📝 Post-Mortem: ${date} ${capitalised(view.environment)} Rollback${drill}`;
  const outcome = view.outcome?.code ?? view.state;
  const duration = end === null ? '—' : formatDuration(end - start);
  const versions = `\`${esc(view.fromVersion ?? '?')}\` → \`${esc(view.toVersion)}\``;
  const approvers = view.approvals.map((a) => `<@${esc(a.user)}> (${esc(a.role)})`).join(', ');

  const summary = [
    '*Summary*',
    `• *Incident Start*: ${slackDate(start)}`,
    `• *Rollback Initiated*: ${slackDate(declared)} by ${actorText(view.declaredBy)}`,
    `• *Rollback ${outcome === 'resolved' ? 'Completed' : `Ended (${outcome})`}*: ${end === null ? '—' : slackDate(end)}`,
    `• *Total Duration*: ${duration} (incident start → ${outcome})${end === null ? '' : `; the rollback itself took ${formatDuration(end - declared)}`}`,
    `• *Impact*: *${esc(view.service)}* in *${esc(view.environment)}* for ${duration}, rolled back ${versions} (strategy \`${esc(view.strategy)}\`). _[Describe the user and system impact: who was affected, how badly, what was lost.]_`,
    `• *Reason given*: ${quoted(view.reason)}`,
    ...(approvers === '' ? [] : [`• *Approved by*: ${approvers}`]),
    ...(view.drill ? ['• 🧪 *This was a drill*: it is left out of the KPIs.'] : []),
  ].join('\n');

  const lines = timeline.map((event) => timelineLine(event, view));
  const verified = auditLine(audit, view.id);
  const blocks: KnownBlock[] = [
    header(title),
    context([
      `Draft by rollback-bot from the audit trail of \`${esc(view.id)}\`: complete the _[bracketed]_ parts before sharing. Times are shown in your time zone (UTC in brackets where Slack cannot).`,
    ]),
    section(summary),
    divider(),
    ...timelineBlocks(lines, view),
    context([verified]),
    divider(),
    section(
      [
        '*Root Cause*',
        '_[Detailed analysis]_',
        '1. What happened? (the timeline above)',
        '2. Why did it happen?',
        '3. How can we prevent it?',
        '4. How can we detect it faster?',
        '5. How can we recover faster?',
      ].join('\n'),
    ),
    section(
      [
        '*Action Items* _[owner, due date]_',
        ...ACTION_ITEMS.map((item) => `☐ ${item} — _[owner]_, _[due]_`),
      ].join('\n'),
    ),
    section('*Lessons Learned*\n_[Key takeaways]_'),
  ];
  // The fallback text carries the timeline too: readers of `text` (notifications, exports, API
  // clients) get the times and actors without parsing blocks. Well under Slack's 40,000 characters.
  const text = truncate(
    [
      `Post-mortem draft: ${date} ${esc(view.environment)} rollback of ${esc(view.service)}${drill}, ${outcome} after ${duration}`,
      verified,
      'Timeline:',
      ...lines,
    ].join('\n'),
    TEXT_CHARS,
  );
  return { text, blocks: blocks.slice(0, LIMITS.messageBlocks) };
}
