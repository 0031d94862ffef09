/**
 * The time-based authority matrix: who may approve a rollback at a given minute of the incident.
 * Pure: the caller passes the clock (`now`) and the user's roles, resolved from Slack at click time.
 */
import type { AuthorityPolicy, TierSpec } from './plan.js';

export interface ActiveTier {
  index: number;
  spec: TierSpec;
  /** Absolute time (epoch ms) at which this tier began for this incident. */
  since: number;
  /** Absolute time at which the next tier takes over; null for the last tier. */
  until: number | null;
}

export interface ApprovalRecord {
  user: string;
  /** The role that qualified the approver (their highest role in the policy). */
  role: string;
  tier: number;
  at: number;
  /** Whole minutes since the incident started when the approval was given. */
  minute: number;
}

export interface Actor {
  userId: string;
  roles: readonly string[];
}

/** Why the matrix refuses someone; the person reads the message (docs/troubleshooting.md explains each). */
export const AUTHORITY_REFUSAL_CODES = [
  'no_role',
  'rank_too_low',
  'self_approval',
  'already_approved',
  'expired',
] as const;
export type RefusalCode = (typeof AUTHORITY_REFUSAL_CODES)[number];

export type AuthorityDecision =
  | {
      ok: true;
      role: string;
      tier: ActiveTier;
      minute: number;
      /** Approvals that will exist once this one is recorded, and how many are needed. */
      approvalsAfter: number;
      approvalsRequired: number;
      complete: boolean;
    }
  | { ok: false; code: RefusalCode; message: string; tier: ActiveTier };

export function minutesSince(start: number, now: number): number {
  return Math.max(0, Math.floor((now - start) / 60_000));
}

/** The tier in force at `now`; before the incident start (clock skew) the first tier applies. */
export function tierAt(policy: AuthorityPolicy, incidentStartedAt: number, now: number): ActiveTier {
  const elapsed = Math.max(0, now - incidentStartedAt);
  let index = 0;
  policy.tiers.forEach((tier, i) => {
    if (tier.afterMs <= elapsed) index = i;
  });
  const spec = policy.tiers[index]!;
  const next = policy.tiers[index + 1];
  return {
    index,
    spec,
    since: incidentStartedAt + spec.afterMs,
    until: next ? incidentStartedAt + next.afterMs : null,
  };
}

/** When the required tier changes next (for the engine's timer); null when the last tier is in force. */
export function nextTierChangeAt(
  policy: AuthorityPolicy,
  incidentStartedAt: number,
  now: number,
): number | null {
  return tierAt(policy, incidentStartedAt, now).until;
}

/** Rank of a role in the policy (0 = lowest), or -1 when the policy does not know it. */
export function roleRank(policy: AuthorityPolicy, role: string): number {
  return policy.roles.findIndex((r) => r.name === role);
}

/** The user's highest-ranked role known to the policy, if any. */
export function highestRole(policy: AuthorityPolicy, roles: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestRank = -1;
  for (const role of roles) {
    const rank = roleRank(policy, role);
    if (rank > bestRank) {
      best = role;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * The policy's roles a user holds, from explicit user ids and from the members of Slack user groups
 * (`usergroupMembers` maps a group id to its members, as the Slack adapter resolved them).
 */
export function resolveRoles(
  policy: AuthorityPolicy,
  userId: string,
  usergroupMembers: ReadonlyMap<string, readonly string[]>,
): string[] {
  return policy.roles
    .filter(
      (role) =>
        role.members.users.includes(userId) ||
        (role.members.usergroup !== undefined &&
          (usergroupMembers.get(role.members.usergroup) ?? []).includes(userId)),
    )
    .map((role) => role.name);
}

/**
 * Whether user groups that could not be read might change what the user may do. Every decision on
 * roles goes by the highest one (rank checks) or by holding any (cancel, freeze), so groups whose
 * roles all rank at or below a role the user holds for certain cannot: the user keeps that role and
 * only a group of a higher role is worth refusing over.
 */
export function unreadGroupsMatter(
  policy: AuthorityPolicy,
  held: readonly string[],
  unread: ReadonlySet<string>,
): boolean {
  const best = Math.max(-1, ...held.map((role) => roleRank(policy, role)));
  return policy.roles.some(
    (role, rank) => role.members.usergroup !== undefined && unread.has(role.members.usergroup) && rank > best,
  );
}

export function approvalsRequired(policy: AuthorityPolicy, environment: string): number {
  return policy.approvalsRequired.byEnvironment[environment] ?? policy.approvalsRequired.default;
}

/**
 * Whether the actor ranks high enough for the tier in force: the check behind approve, reject and
 * accepting a failed validation. It does not look at earlier approvals.
 */
export function checkRank(
  policy: AuthorityPolicy,
  actor: Actor,
  incidentStartedAt: number,
  now: number,
):
  | { ok: true; role: string; tier: ActiveTier; minute: number }
  | { ok: false; code: 'no_role' | 'rank_too_low'; message: string; tier: ActiveTier } {
  const tier = tierAt(policy, incidentStartedAt, now);
  const minute = minutesSince(incidentStartedAt, now);
  const needed = tier.spec.approver;
  const since = tier.spec.afterMs > 0 ? ` since minute ${Math.round(tier.spec.afterMs / 60_000)}` : '';
  const role = highestRole(policy, actor.roles);
  if (role === undefined) {
    return {
      ok: false,
      code: 'no_role',
      tier,
      message: `needs ${needed} or above${since}; you hold no role in authority policy "${policy.name}"`,
    };
  }
  if (roleRank(policy, role) < roleRank(policy, needed)) {
    return {
      ok: false,
      code: 'rank_too_low',
      tier,
      message: `needs ${needed} or above${since}; you are ${role}`,
    };
  }
  return { ok: true, role, tier, minute };
}

export interface ApprovalRequest {
  policy: AuthorityPolicy;
  actor: Actor;
  environment: string;
  incidentStartedAt: number;
  declaredAt: number;
  declaredBy: string;
  approvals: readonly ApprovalRecord[];
  now: number;
}

/** May this user approve now? Checks expiry, self-approval, duplicates and rank, in that order. */
export function canApprove(request: ApprovalRequest): AuthorityDecision {
  const { policy, actor, now } = request;
  const tier = tierAt(policy, request.incidentStartedAt, now);
  if (now >= request.declaredAt + policy.expireAfterMs) {
    return {
      ok: false,
      code: 'expired',
      tier,
      message: `the approval request expired ${Math.round(policy.expireAfterMs / 60_000)} minutes after the declaration; declare the rollback again`,
    };
  }
  if (!policy.selfApproval && actor.userId === request.declaredBy) {
    return {
      ok: false,
      code: 'self_approval',
      tier,
      message: `authority policy "${policy.name}" forbids approving a rollback you declared; ask another approver`,
    };
  }
  if (request.approvals.some((a) => a.user === actor.userId)) {
    return {
      ok: false,
      code: 'already_approved',
      tier,
      message: 'you have already approved this rollback; it needs another approver',
    };
  }
  const rank = checkRank(policy, actor, request.incidentStartedAt, now);
  if (!rank.ok) return rank;
  const needed = approvalsRequired(policy, request.environment);
  const after = request.approvals.length + 1;
  return {
    ok: true,
    role: rank.role,
    tier: rank.tier,
    minute: rank.minute,
    approvalsAfter: after,
    approvalsRequired: needed,
    complete: after >= needed,
  };
}

/**
 * Acting on a rollback (cancel, abort, retry, skip, start now, mark a check done) needs any role of
 * the policy, whatever the tier. `action` names the act in the refusal, e.g. "aborting".
 */
export function canAct(
  policy: AuthorityPolicy,
  actor: Actor,
  action: string,
): { ok: true; role: string } | { ok: false; code: 'no_role'; message: string } {
  const role = highestRole(policy, actor.roles);
  if (role === undefined) {
    return {
      ok: false,
      code: 'no_role',
      message: `${action} needs a role in authority policy "${policy.name}"; you hold none`,
    };
  }
  return { ok: true, role };
}
