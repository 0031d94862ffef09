/**
 * Who owns a service and where to look during its incident (a plan's `owner`, `contacts` and
 * `links`; seed 002's "Emergency Contacts" and "Critical Resources"), as one mrkdwn text for the
 * card and `/rollback plan`. Pure.
 */
import type { Contact, PlanLinks } from '../../domain/plan.js';
import { escapeMrkdwn, groupMention, mention } from './text.js';

const esc = escapeMrkdwn;
/** A link Slack can show as one: http(s), no characters that would end the `<...|...>` early. */
const LINKABLE = /^https?:\/\/[^\s<>|]+$/;
const LINK_NAMES: Record<keyof PlanLinks, string> = {
  runbook: 'Runbook',
  dashboard: 'Dashboard',
  logs: 'Logs',
};

export interface OwnershipOptions {
  /**
   * User groups as `<!subteam^...>` mentions. Off on the card, which is posted to the channel and
   * re-drawn often: paging is the thread's job; there the group id is shown as text.
   */
  groupMentions: boolean;
}

function contactText(contact: Contact, options: OwnershipOptions): string {
  const parts = [`*${esc(contact.name)}*`];
  const slack = contact.slack;
  if (slack !== undefined) {
    if (slack.startsWith('S'))
      parts.push(options.groupMentions ? groupMention(slack) : `group \`${esc(slack)}\``);
    else parts.push(mention(slack));
  }
  if (contact.phone !== undefined) parts.push(`☎️ ${esc(contact.phone)}`);
  return parts.join(' ');
}

function linkText(name: keyof PlanLinks, target: string): string {
  return LINKABLE.test(target)
    ? `<${target}|${LINK_NAMES[name]}>`
    : `${LINK_NAMES[name]}: \`${esc(target).replace(/`/g, "'")}\``;
}

/**
 * `👤 Owner: *team* · 📞 *Ana* <@U1> ☎️ +33 ... · 🔗 <https://...|Runbook> · Logs: `group`` on up
 * to three lines; null when the plan lists none of them.
 */
export function ownershipText(
  about: {
    owner?: string | undefined;
    contacts?: readonly Contact[] | undefined;
    links?: PlanLinks | undefined;
  },
  options: OwnershipOptions,
): string | null {
  const lines: string[] = [];
  if (about.owner !== undefined) lines.push(`👤 *Owner:* ${esc(about.owner)}`);
  const contacts = about.contacts ?? [];
  if (contacts.length > 0) {
    lines.push(`📞 *Contacts:* ${contacts.map((c) => contactText(c, options)).join(' · ')}`);
  }
  const links = (Object.keys(LINK_NAMES) as Array<keyof PlanLinks>).flatMap((name) => {
    const target = about.links?.[name];
    return target === undefined ? [] : [linkText(name, target)];
  });
  if (links.length > 0) lines.push(`🔗 ${links.join(' · ')}`);
  return lines.length === 0 ? null : lines.join('\n');
}
