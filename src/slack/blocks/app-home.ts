/**
 * The App Home tab: what is going on right now (active rollbacks, open incidents, deployment
 * freezes) and the last rollbacks that ended. Pure: the listener gathers the data and the time.
 * Texts carry no links (the home tab is read at a glance; ids are typed into `/rollback status`),
 * and the view stays within Slack's 100 blocks whatever the counts.
 */
import type { HomeView, KnownBlock } from '@slack/web-api';
import type { FreezeEntry } from '../../app/freeze-service.js';
import type { RollbackView } from '../../app/rollback-view.js';
import { stateEmoji } from './emoji.js';
import { LIMITS, context, divider, header, section } from './kit.js';
import { freezeLine } from './freeze-replies.js';
import { escapeMrkdwn as esc, slackDate, slackDateIso } from './text.js';

/** An incident the alert side keeps open (one per service and environment). */
export interface OpenIncident {
  service: string;
  environment: string;
  startedAt: number;
  alertCount: number;
  threadTs?: string;
}

/** App Home's list of open incidents, from the incident service's summaries. */
export function openIncidentsFrom(incidents: {
  listOpen(): Promise<Array<{ service: string; environment: string; startedAt: number; alerts: number }>>;
}): () => Promise<OpenIncident[]> {
  return async () =>
    (await incidents.listOpen()).map((incident) => ({
      service: incident.service,
      environment: incident.environment,
      startedAt: incident.startedAt,
      alertCount: incident.alerts,
    }));
}

export interface AppHomeInput {
  active: readonly RollbackView[];
  incidents: readonly OpenIncident[];
  freezes: readonly FreezeEntry[];
  /** Ended rollbacks, newest first. */
  recent: readonly RollbackView[];
  now: number;
}

/** Items shown per list; 4 lists of header + items + "more" + divider stay under 100 blocks. */
export const HOME_ITEMS_PER_LIST = 20;
export const HOME_RECENT = 10;

const drill = (v: RollbackView): string => (v.drill ? ' 🧪 drill' : '');

/** `*executing* (step 2 ("Switch traffic") is running)`: the detail starts with the state's name. */
function stateText(v: RollbackView): string {
  return v.stateDetail.startsWith(v.state)
    ? `*${esc(v.state)}*${esc(v.stateDetail.slice(v.state.length))}`
    : `*${esc(v.state)}* · ${esc(v.stateDetail)}`;
}

function activeLine(v: RollbackView): string {
  return `${stateEmoji(v.state)} \`${esc(v.id)}\` *${esc(v.service)}* (${esc(v.environment)})${drill(v)} · ${stateText(v)} · declared ${slackDateIso(v.declaredAt)}`;
}

function incidentLine(incident: OpenIncident): string {
  const alerts = `${incident.alertCount} ${incident.alertCount === 1 ? 'alert' : 'alerts'}`;
  return `🚨 *${esc(incident.service)}* (${esc(incident.environment)}) · ${alerts} · since ${slackDate(incident.startedAt)}`;
}

function recentLine(v: RollbackView): string {
  const ended = v.outcome === null ? '' : ` · ended ${slackDateIso(v.outcome.at)}`;
  const why = v.outcome === null ? '' : ` · ${esc(v.outcome.reason)}`;
  return `${stateEmoji(v.state)} \`${esc(v.id)}\` *${esc(v.service)}* (${esc(v.environment)})${drill(v)} · *${esc(v.state)}* → \`${esc(v.toVersion)}\`${why}${ended}`;
}

function list<T>(
  title: string,
  items: readonly T[],
  line: (item: T) => string,
  texts: { empty: string; more: string },
): KnownBlock[] {
  const blocks: KnownBlock[] = [header(`${title} (${items.length})`)];
  if (items.length === 0) blocks.push(context([texts.empty]));
  blocks.push(...items.slice(0, HOME_ITEMS_PER_LIST).map((item) => section(line(item))));
  if (items.length > HOME_ITEMS_PER_LIST)
    blocks.push(context([`… and ${items.length - HOME_ITEMS_PER_LIST} more: ${texts.more}`]));
  blocks.push(divider());
  return blocks;
}

export function renderAppHome(input: AppHomeInput): HomeView {
  const blocks: KnownBlock[] = [
    context([`🔁 *rollback-bot* · as of ${slackDate(input.now)} · \`/rollback help\` for commands`]),
    ...list('Active rollbacks', input.active, activeLine, {
      empty: 'No rollback is running.',
      more: '`/rollback list` shows them all.',
    }),
    ...list('Open incidents', input.incidents, incidentLine, {
      empty: 'No open incident.',
      more: 'see the incident channels.',
    }),
    ...list('Deployment freezes', input.freezes, freezeLine, {
      empty: 'Nothing is frozen: CI may deploy.',
      more: '`/rollback freeze` lists them all.',
    }),
    ...list('Recent rollbacks', input.recent.slice(0, HOME_RECENT), recentLine, {
      empty: 'No rollback has ended yet.',
      more: '`/rollback history` lists them all.',
    }),
  ];
  return { type: 'home', blocks: blocks.slice(0, LIMITS.modalBlocks) };
}
