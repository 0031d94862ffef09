/**
 * Who a tier's notices page. The roles and their members come from the authority policy copied
 * into the rollback when it was declared, never from the catalog: two policies may give their roles
 * the same names and different people, and a config reload must not change who is paged mid-way.
 *
 * Whether anyone holds a role is decided here, in the Slack adapter, at the time of paging: the
 * policy's user ids are known from the policy, but a user group's members are whatever Slack reports
 * now, and the pure domain does not ask Slack. The domain names the tier's role; this decides whom
 * that reaches: the role itself when someone holds it, else the next role up that someone holds
 * (anyone above the tier's role may approve too, so they can act at once), and the notice and the
 * card say so rather than mentioning a group nobody is in.
 */
import { roleRank } from '../domain/authority.js';
import type { AuthorityPolicy, RoleSpec } from '../domain/plan.js';

export interface RolePage {
  /** The role the tier names. */
  role: string;
  /** The role paged for it (itself, or the next one up that someone holds); null: nobody at all. */
  paged: RoleSpec | null;
  /** The roles nobody holds, from `role` up to the paged one (empty when `role` itself is paged). */
  unheld: string[];
}

/** Whom the tier's approver and its notify role reach. */
export interface TierPage {
  approver: RolePage;
  notify?: RolePage;
}

/** A user group's members as Slack reports them now; null when Slack could not tell. */
export type GroupMembers = (group: string) => Promise<readonly string[] | null>;

/**
 * Whether anyone holds the role: someone listed by id, or a user group that Slack did not report
 * empty (a group it could not read is paged anyway: better a mention that reaches nobody than
 * skipping the people on call).
 */
async function held(role: RoleSpec, groupMembers: GroupMembers): Promise<boolean> {
  if (role.members.users.length > 0) return true;
  if (role.members.usergroup === undefined) return false;
  const members = await groupMembers(role.members.usergroup);
  return members === null || members.length > 0;
}

/** The approver role, or the next one up that someone holds. */
async function pageApprover(
  policy: AuthorityPolicy,
  role: string,
  groupMembers: GroupMembers,
): Promise<RolePage> {
  const rank = roleRank(policy, role);
  const unheld: string[] = [];
  // A role the policy does not know (config checks refuse that) pages nobody, and says so.
  if (rank === -1) return { role, paged: null, unheld: [role] };
  for (const candidate of policy.roles.slice(rank)) {
    if (await held(candidate, groupMembers)) return { role, paged: candidate, unheld };
    unheld.push(candidate.name);
  }
  return { role, paged: null, unheld };
}

/** The notify role is told for information only: when nobody holds it, nobody above is told instead. */
async function pageNotify(
  policy: AuthorityPolicy,
  role: string,
  groupMembers: GroupMembers,
): Promise<RolePage> {
  const spec = policy.roles.find((r) => r.name === role);
  return spec !== undefined && (await held(spec, groupMembers))
    ? { role, paged: spec, unheld: [] }
    : { role, paged: null, unheld: [role] };
}

export async function pageTier(
  policy: AuthorityPolicy,
  tier: { approver: string; notify?: string | null },
  groupMembers: GroupMembers,
): Promise<TierPage> {
  const approver = await pageApprover(policy, tier.approver, groupMembers);
  if (tier.notify === undefined || tier.notify === null) return { approver };
  return { approver, notify: await pageNotify(policy, tier.notify, groupMembers) };
}
