/**
 * The incident thread: its parent message (updated in place: what fires, since when, what was
 * deployed in the hour before, and the status card of its rollback) and the replies that tell what
 * changed, offer the plan's rollback, or say the incident is over. Modelled on the seeds' "INCIDENT
 * ALERT". One message per incident: a rollback declared in it has no message of its own, its card
 * is drawn here (the newest in full, the earlier ones a line each) and its notices go to this
 * thread. Pure.
 */
import type { KnownBlock } from '@slack/web-api';
import { formatDuration } from '../../domain/duration.js';
import type { Incident, IncidentAlert, TriggerDecision } from '../../domain/incident.js';
import { FINAL_STATES } from '../../domain/rollback-types.js';
import type { Deployment } from '../../store/store.js';
import { stateEmoji } from './emoji.js';
import { actions, context, divider, header, incidentButton, LIMITS, section } from './kit.js';
import { renderStatusCard, versionsText, type StatusCardInput } from './status-card.js';
import { escapeMrkdwn as esc, mention, slackDate, slackDateIso, truncate } from './text.js';

export interface ThreadMessage {
  text: string;
  blocks?: KnownBlock[];
}

export interface RollbackLine {
  id: string;
  state: string;
  toVersion: string;
}

/** A rollback of the incident, as its message shows it. */
export interface IncidentRollback {
  /** What its status card is drawn from (as the card's writer would draw it on its own). */
  card: StatusCardInput;
  /**
   * Its card is on this message (it was declared in the incident). False for one that joined with
   * a message of its own (declared before the incident opened): it is listed, its card stays there.
   */
  here: boolean;
}

/** Earlier rollbacks listed one line each before the rest are counted. */
const SHOWN_EARLIER = 10;

const SHOWN_ALERTS = 10;
export const DEPLOY_WINDOW_MS = 60 * 60_000;

/**
 * A link target Slack's `<url|text>` cannot be broken out of: `&` escaped as Slack asks, `<`, `>`
 * and `|` percent-encoded; the URL is otherwise kept as sent (already encoded by its source).
 */
const linkTarget = (url: string): string =>
  url.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');

function alertLine(alert: IncidentAlert): string {
  const linkable = alert.url !== null && /^https?:\/\//i.test(alert.url);
  const name = linkable ? `<${linkTarget(alert.url!)}|*${esc(alert.name)}*>` : `*${esc(alert.name)}*`;
  const summary = alert.summary === alert.name ? '' : ` — ${esc(truncate(alert.summary, 200))}`;
  return `• ${name}${summary} _(since ${slackDate(alert.startsAt)})_`;
}

function alertList(alerts: IncidentAlert[], more = 0): string {
  const shown = alerts.slice(0, SHOWN_ALERTS).map(alertLine);
  const hidden = alerts.length - shown.length + more;
  return [...shown, ...(hidden > 0 ? [`… and ${hidden} more`] : [])].join('\n');
}

/** Deployments in the hour before the incident started: the usual suspects. */
export function recentDeployments(deployments: readonly Deployment[], startedAt: number): Deployment[] {
  return deployments.filter((d) => d.at <= startedAt && d.at >= startedAt - DEPLOY_WINDOW_MS);
}

function deploymentLine(deployment: Deployment, startedAt: number): string {
  const commit = deployment.commit === undefined ? '' : ` (${esc(deployment.commit.slice(0, 12))})`;
  const by = deployment.by === undefined ? '' : ` by ${mention(deployment.by)}`;
  const before = formatDuration(startedAt - deployment.at);
  return `• \`${esc(deployment.version)}\`${commit}${by} at ${slackDate(deployment.at)}, ${before} before`;
}

/**
 * The rollback whose card is drawn in full: the newest one still going, else the newest (at most one
 * rollback of a service and environment is active, so the others are over). Null when none is here.
 */
function featuredOf(rollbacks: readonly IncidentRollback[]): IncidentRollback | null {
  const here = rollbacks.filter((r) => r.here);
  const going = here.filter((r) => !FINAL_STATES.some((state) => state === r.card.view.state));
  return going.at(-1) ?? here.at(-1) ?? null;
}

function rollbackSummary({ card: { view }, here }: IncidentRollback): string {
  const where = here ? '' : ' · _its own card and thread_';
  return (
    `• ${stateEmoji(view.state)} \`${esc(view.id)}\` ${versionsText(view)}: ${esc(truncate(view.stateDetail, 150))}` +
    ` · declared by ${mention(view.declaredBy)} ${slackDateIso(view.declaredAt)}${where}`
  );
}

/**
 * The rollbacks not drawn in full, newest first, in one block: whole lines only (a cut line could
 * break a mention or a date), the rest counted.
 */
function rollbacksBlock(title: string, rollbacks: readonly IncidentRollback[]): KnownBlock {
  const newest = [...rollbacks].reverse();
  const more = (n: number): string => `… and ${n} more`;
  const room = LIMITS.sectionText - title.length - 3 - more(newest.length).length - 1;
  const lines: string[] = [];
  let used = 0;
  for (const rollback of newest.slice(0, SHOWN_EARLIER)) {
    const line = rollbackSummary(rollback);
    if (used + line.length + 1 > room) break;
    lines.push(line);
    used += line.length + 1;
  }
  if (lines.length < newest.length) lines.push(more(newest.length - lines.length));
  return section(`*${title}*\n${lines.join('\n')}`);
}

export function renderIncidentParent(input: {
  incident: Incident;
  deployments: readonly Deployment[];
  /** In the order they joined. */
  rollbacks: readonly IncidentRollback[];
  now: number;
}): ThreadMessage {
  const { incident, rollbacks } = input;
  const firing = incident.alerts.filter((alert) => alert.status === 'firing');
  const resolved = incident.alerts.length - firing.length;
  const where = `${esc(incident.service)} (${esc(incident.environment)})`;
  const closed = incident.closedAt !== null;
  const title = closed
    ? `✅ RESOLVED: ${incident.service} (${incident.environment})`
    : `🚨 INCIDENT: ${incident.service} (${incident.environment})`;
  const status = closed
    ? `*Closed* at ${slackDate(incident.closedAt ?? input.now)} after ${formatDuration((incident.closedAt ?? input.now) - incident.startedAt)}`
    : `*${firing.length} firing*, ${resolved} resolved · started ${slackDate(incident.startedAt)}`;
  const blocks: KnownBlock[] = [
    header(title),
    section(status),
    ...(incident.startNote === undefined ? [] : [context([`ℹ️ ${esc(truncate(incident.startNote, 300))}`])]),
  ];
  if (firing.length > 0) blocks.push(section(`*Firing*\n${alertList(firing, incident.overflow)}`));
  const deploys = recentDeployments(input.deployments, incident.startedAt);
  blocks.push(
    section(
      deploys.length === 0
        ? '*Deployed in the hour before:* nothing recorded.'
        : `*Deployed in the hour before:*\n${deploys
            .slice(0, 5)
            .map((d) => deploymentLine(d, incident.startedAt))
            .join('\n')}`,
    ),
  );
  const featured = featuredOf(rollbacks);
  const others = rollbacks.filter((r) => r !== featured);
  const listed =
    others.length === 0
      ? []
      : featured === null
        ? [rollbacksBlock('Rollbacks', others)]
        : [divider(), rollbacksBlock('Earlier rollbacks of this incident', others)];
  const footer = context([`Incident \`${esc(incident.id)}\` · ${where} · updates in the thread`]);
  // The card takes what the incident's own blocks leave of Slack's 50 (it shortens its step list).
  const card =
    featured === null
      ? null
      : renderStatusCard({
          ...featured.card,
          maxBlocks: LIMITS.messageBlocks - blocks.length - 1 - listed.length - 1,
        });
  if (card !== null) blocks.push(divider(), ...card.blocks);
  blocks.push(...listed, footer);
  const text = closed
    ? `Resolved: ${incident.service} (${incident.environment})`
    : `Incident: ${incident.service} (${incident.environment}), ${firing.length} alert(s) firing`;
  // The card's own fallback is escaped already.
  const fallback = card === null ? esc(text) : `${esc(text)} · ${card.text}`;
  return { text: truncate(fallback, LIMITS.fallbackText), blocks };
}

/** One reply for everything that changed since the last one (coalesced). */
export function renderAlertChanges(
  incident: Incident,
  told: { firing: string[]; resolved: string[] },
): ThreadMessage {
  const byId = new Map(incident.alerts.map((alert) => [alert.fingerprint, alert]));
  const pick = (ids: string[]) =>
    ids.map((id) => byId.get(id)).filter((a): a is IncidentAlert => a !== undefined);
  const firing = pick(told.firing);
  const resolved = pick(told.resolved);
  const lines: string[] = [];
  if (firing.length > 0) lines.push(`🔥 *${firing.length} more firing*\n${alertList(firing)}`);
  if (resolved.length > 0) {
    const names = resolved.slice(0, SHOWN_ALERTS).map((a) => `• ~${esc(a.name)}~ resolved`);
    const more = resolved.length > SHOWN_ALERTS ? [`… and ${resolved.length - SHOWN_ALERTS} more`] : [];
    lines.push(`✅ *${resolved.length} resolved*\n${[...names, ...more].join('\n')}`);
  }
  const still = incident.alerts.filter((a) => a.status === 'firing').length;
  lines.push(`_${still} still firing._`);
  const text = lines.join('\n');
  return {
    text: truncate(`${firing.length} firing, ${resolved.length} resolved`, LIMITS.fallbackText),
    blocks: [section(text)],
  };
}

/** The offer: the plan's rollback is one click away. */
export function renderRollbackOffer(incident: Incident, trigger: TriggerDecision): ThreadMessage {
  const why = trigger.name === null ? 'the plan' : `trigger *${esc(trigger.name)}*`;
  const strategy =
    trigger.strategy === null ? 'its default strategy' : `strategy \`${esc(trigger.strategy)}\``;
  const text =
    `↩️ ${why} proposes rolling back *${esc(incident.service)}* (${esc(incident.environment)}) with ${strategy}. ` +
    `Its card will be on this incident's message; approval follows the authority policy.`;
  return {
    text: truncate(`Roll back ${incident.service}?`, LIMITS.fallbackText),
    blocks: [
      section(text),
      actions([
        incidentButton('Roll back', {
          incidentId: incident.id,
          ...(trigger.strategy === null ? {} : { strategy: trigger.strategy }),
        }),
      ]),
    ],
  };
}

export function renderAutoRollback(trigger: TriggerDecision): ThreadMessage {
  const text = trigger.refused
    ? `⚠️ Trigger *${esc(trigger.name ?? 'auto')}* wanted to roll back automatically, but: ${esc(trigger.refused)}`
    : `⏱️ Trigger *${esc(trigger.name ?? 'auto')}* rolls back automatically ${formatDuration(trigger.delayMs)} after ${slackDate(trigger.at)} unless someone cancels it on the card.`;
  return { text: truncate(text.replace(/[*_]/g, ''), LIMITS.fallbackText), blocks: [section(text)] };
}

export function renderRollbackJoined(rollback: {
  id: string;
  declaredBy: string;
  toVersion: string;
}): ThreadMessage {
  const text = `↩️ Rollback \`${esc(rollback.id)}\` to \`${esc(rollback.toVersion)}\` declared by ${mention(rollback.declaredBy)}: its card and thread carry the details.`;
  return { text: truncate(`Rollback ${rollback.id} declared`, LIMITS.fallbackText), blocks: [section(text)] };
}

export function renderIncidentClosed(incident: Incident): ThreadMessage {
  const lasted = formatDuration((incident.closedAt ?? incident.startedAt) - incident.startedAt);
  const text = `✅ All alerts resolved; incident \`${esc(incident.id)}\` closed after ${lasted}.`;
  return { text: truncate(text.replace(/`/g, ''), LIMITS.fallbackText), blocks: [section(text)] };
}
