/**
 * How paging reads, in the thread's notices (which mention people) and on the card (which names
 * roles only: it is redrawn often and must not page). Pure: whom to page was decided before
 * (`../paging.ts`).
 */
import type { RoleSpec } from '../../domain/plan.js';
import type { RolePage } from '../paging.js';
import { escapeMrkdwn, groupMention, mention } from './text.js';

const esc = escapeMrkdwn;

/** `*team-lead*`: a role named, nobody paged. */
export const roleName = (role: string): string => `*${esc(role)}*`;

/**
 * `<!subteam^S1> <@U1> (team-lead)`: whom the rollback's policy lists for the role, its user group
 * and its user ids alike (a role may have both).
 */
export function roleMention(role: RoleSpec): string {
  const { usergroup, users } = role.members;
  const who = [...(usergroup === undefined ? [] : [groupMention(usergroup)]), ...users.map(mention)];
  return who.length === 0 ? roleName(role.name) : `${who.join(' ')} (${esc(role.name)})`;
}

/** The role as paged: its members when someone holds it, else its name (the caveat says why). */
export function pagedRole(role: string, page: RolePage | undefined): string {
  return page?.paged != null && page.unheld.length === 0 ? roleMention(page.paged) : roleName(role);
}

function words(names: string[]): string {
  const shown = names.map(roleName);
  return shown.length <= 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

/**
 * "⚠️ Nobody holds *team-lead*: paging <@U0EM1> (engineering-manager)." when nobody holds the
 * tier's role; null when someone does. `show` mentions (a notice) or names (the card) the role paged.
 */
export function unheldText(page: RolePage | undefined, show: (role: RoleSpec) => string): string | null {
  if (page === undefined || page.unheld.length === 0) return null;
  return page.paged === null
    ? `⚠️ Nobody holds ${roleName(page.role)} or any role above it: nobody can approve until someone is added to one of them.`
    : `⚠️ Nobody holds ${words(page.unheld)}: paging ${show(page.paged)}.`;
}

/** ` (nobody holds it)` after a notify role nobody holds. */
export const notifyCaveat = (page: RolePage | undefined): string =>
  page !== undefined && page.paged === null ? ' (nobody holds it)' : '';
