import { describe, expect, it } from 'vitest';
import {
  approvalsRequired,
  canAct,
  canApprove,
  checkRank,
  highestRole,
  minutesSince,
  nextTierChangeAt,
  resolveRoles,
  roleRank,
  tierAt,
  unreadGroupsMatter,
  type ApprovalRecord,
  type ApprovalRequest,
} from '../../../src/domain/authority.js';
import { MINUTE, ROLES, T0, USERS, standardPolicy, strictPolicy } from '../../support/domain-fixtures.js';

const policy = standardPolicy();

function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    policy,
    actor: { userId: USERS.oncall, roles: ROLES.oncall },
    environment: 'production',
    incidentStartedAt: T0,
    declaredAt: T0,
    declaredBy: USERS.declarer,
    approvals: [],
    now: T0 + MINUTE,
    ...overrides,
  };
}

const approval = (user: string): ApprovalRecord => ({
  user,
  role: 'on-call-engineer',
  tier: 0,
  at: T0,
  minute: 0,
});

describe('tierAt', () => {
  it.each([
    [0, 0, 'on-call-engineer'],
    [15 * MINUTE - 1, 0, 'on-call-engineer'],
    [15 * MINUTE, 1, 'team-lead'],
    [30 * MINUTE - 1, 1, 'team-lead'],
    [30 * MINUTE, 2, 'engineering-manager'],
    [60 * MINUTE - 1, 2, 'engineering-manager'],
    [60 * MINUTE, 3, 'vp-engineering'],
    [600 * MINUTE, 3, 'vp-engineering'],
  ])('at +%i ms the tier is %i (%s)', (elapsed, index, approver) => {
    const tier = tierAt(policy, T0, T0 + elapsed);
    expect(tier.index).toBe(index);
    expect(tier.spec.approver).toBe(approver);
  });

  it('applies the first tier before the incident start (clock skew)', () => {
    expect(tierAt(policy, T0, T0 - MINUTE).index).toBe(0);
  });

  it('gives the absolute start and end of the tier in force', () => {
    expect(tierAt(policy, T0, T0 + 20 * MINUTE)).toMatchObject({
      since: T0 + 15 * MINUTE,
      until: T0 + 30 * MINUTE,
    });
    expect(tierAt(policy, T0, T0 + 90 * MINUTE)).toMatchObject({ since: T0 + 60 * MINUTE, until: null });
  });
});

describe('nextTierChangeAt', () => {
  it('is the start of the next tier, and null in the last one', () => {
    expect(nextTierChangeAt(policy, T0, T0)).toBe(T0 + 15 * MINUTE);
    expect(nextTierChangeAt(policy, T0, T0 + 15 * MINUTE - 1)).toBe(T0 + 15 * MINUTE);
    expect(nextTierChangeAt(policy, T0, T0 + 15 * MINUTE)).toBe(T0 + 30 * MINUTE);
    expect(nextTierChangeAt(policy, T0, T0 + 45 * MINUTE)).toBe(T0 + 60 * MINUTE);
    expect(nextTierChangeAt(policy, T0, T0 + 60 * MINUTE)).toBeNull();
  });
});

describe('minutesSince', () => {
  it('counts whole minutes, never negative', () => {
    expect(minutesSince(T0, T0 + 15 * MINUTE - 1)).toBe(14);
    expect(minutesSince(T0, T0 + 15 * MINUTE)).toBe(15);
    expect(minutesSince(T0, T0 - MINUTE)).toBe(0);
  });
});

describe('roles', () => {
  it('ranks roles in policy order and ignores unknown ones', () => {
    expect(roleRank(policy, 'on-call-engineer')).toBe(0);
    expect(roleRank(policy, 'cto')).toBe(4);
    expect(roleRank(policy, 'intern')).toBe(-1);
    expect(highestRole(policy, ['intern', 'team-lead', 'on-call-engineer'])).toBe('team-lead');
    expect(highestRole(policy, ['intern'])).toBeUndefined();
  });

  it('resolves roles from Slack user groups and explicit user ids', () => {
    const groups = new Map([['S0ONCALL', [USERS.oncall, USERS.lead]]]);
    expect(resolveRoles(policy, USERS.oncall, groups)).toEqual(['on-call-engineer']);
    expect(resolveRoles(policy, USERS.lead, groups)).toEqual(['on-call-engineer', 'team-lead']);
    expect(resolveRoles(policy, USERS.cto, groups)).toEqual(['cto']);
    expect(resolveRoles(policy, USERS.outsider, groups)).toEqual([]);
    expect(resolveRoles(policy, USERS.oncall, new Map())).toEqual([]);
  });

  it('tells when user groups Slack could not read might change what someone may do', () => {
    const unread = new Set(['S0ONCALL']);
    // Nobody known to hold anything: the on-call group might make them on-call.
    expect(unreadGroupsMatter(policy, [], unread)).toBe(true);
    // A team lead for certain outranks whatever the on-call group would add.
    expect(unreadGroupsMatter(policy, ROLES.lead, unread)).toBe(false);
    expect(unreadGroupsMatter(policy, ROLES.oncall, unread)).toBe(false);
    expect(unreadGroupsMatter(policy, ROLES.lead, new Set())).toBe(false);
    const groupedLeads = standardPolicy({
      roles: [
        { name: 'on-call-engineer', members: { usergroup: 'S0ONCALL', users: [] } },
        { name: 'team-lead', members: { usergroup: 'S0LEADS', users: [] } },
      ],
    });
    expect(unreadGroupsMatter(groupedLeads, ROLES.oncall, new Set(['S0LEADS']))).toBe(true);
  });
});

describe('checkRank', () => {
  const rank = (roles: string[], elapsed: number) =>
    checkRank(policy, { userId: 'U1', roles }, T0, T0 + elapsed);

  it('lets on-call approve at 14:59.999 but not at 15:00', () => {
    expect(rank(ROLES.oncall, 15 * MINUTE - 1)).toMatchObject({
      ok: true,
      role: 'on-call-engineer',
      minute: 14,
    });
    expect(rank(ROLES.oncall, 15 * MINUTE)).toEqual(
      expect.objectContaining({
        ok: false,
        code: 'rank_too_low',
        message: 'needs team-lead or above since minute 15; you are on-call-engineer',
      }),
    );
  });

  it.each([
    [30 * MINUTE - 1, ROLES.lead, true],
    [30 * MINUTE, ROLES.lead, false],
    [30 * MINUTE, ROLES.manager, true],
    [60 * MINUTE - 1, ROLES.manager, true],
    [60 * MINUTE, ROLES.manager, false],
    [60 * MINUTE, ROLES.vp, true],
  ])('at +%i ms %j allowed: %s', (elapsed, roles, allowed) => {
    expect(rank(roles, elapsed).ok).toBe(allowed);
  });

  it('lets a higher role do what a lower one may (rank inheritance)', () => {
    for (const roles of [ROLES.lead, ROLES.manager, ROLES.vp, ROLES.cto]) {
      expect(rank(roles, 0).ok).toBe(true);
    }
    expect(rank(ROLES.cto, 600 * MINUTE)).toMatchObject({ ok: true, role: 'cto' });
  });

  it('explains a missing role without mentioning a minute in the first tier', () => {
    expect(rank([], 0)).toMatchObject({
      ok: false,
      code: 'no_role',
      message: 'needs on-call-engineer or above; you hold no role in authority policy "default"',
    });
  });
});

describe('canApprove', () => {
  it('allows a qualified approver and says one approval completes it', () => {
    expect(canApprove(request())).toMatchObject({
      ok: true,
      role: 'on-call-engineer',
      approvalsAfter: 1,
      approvalsRequired: 1,
      complete: true,
    });
  });

  it('refuses self-approval when the policy forbids it, allows it otherwise', () => {
    const own = { actor: { userId: USERS.declarer, roles: ROLES.lead } };
    expect(canApprove(request({ ...own, policy: strictPolicy() }))).toMatchObject({
      ok: false,
      code: 'self_approval',
      message: 'authority policy "default" forbids approving a rollback you declared; ask another approver',
    });
    expect(canApprove(request(own)).ok).toBe(true);
  });

  it('refuses a second approval by the same person', () => {
    expect(canApprove(request({ approvals: [approval(USERS.oncall)] }))).toMatchObject({
      ok: false,
      code: 'already_approved',
      message: 'you have already approved this rollback; it needs another approver',
    });
  });

  it('needs two approvers in production under the two-approver rule, one elsewhere', () => {
    const strict = strictPolicy();
    expect(approvalsRequired(strict, 'production')).toBe(2);
    expect(approvalsRequired(strict, 'staging')).toBe(1);
    expect(canApprove(request({ policy: strict }))).toMatchObject({
      ok: true,
      approvalsAfter: 1,
      complete: false,
    });
    expect(
      canApprove(
        request({
          policy: strict,
          actor: { userId: USERS.oncall2, roles: ROLES.oncall },
          approvals: [approval(USERS.oncall)],
        }),
      ),
    ).toMatchObject({ ok: true, approvalsAfter: 2, approvalsRequired: 2, complete: true });
    expect(canApprove(request({ policy: strict, environment: 'staging' }))).toMatchObject({ complete: true });
  });

  it('expires exactly expireAfter after the declaration', () => {
    expect(
      canApprove(request({ now: T0 + 120 * MINUTE - 1, actor: { userId: 'U1', roles: ROLES.cto } })).ok,
    ).toBe(true);
    expect(canApprove(request({ now: T0 + 120 * MINUTE }))).toMatchObject({
      ok: false,
      code: 'expired',
      message: 'the approval request expired 120 minutes after the declaration; declare the rollback again',
    });
  });

  it('checks expiry, then self-approval, then duplicates, then rank', () => {
    const strict = strictPolicy();
    const everything = request({
      policy: strict,
      actor: { userId: USERS.declarer, roles: [] },
      approvals: [approval(USERS.declarer)],
      now: T0 + 200 * MINUTE,
    });
    expect(canApprove(everything)).toMatchObject({ code: 'expired' });
    expect(canApprove({ ...everything, now: T0 + 16 * MINUTE })).toMatchObject({ code: 'self_approval' });
    expect(canApprove({ ...everything, now: T0 + 16 * MINUTE, policy })).toMatchObject({
      code: 'already_approved',
    });
    expect(canApprove({ ...everything, now: T0 + 16 * MINUTE, policy, approvals: [] })).toMatchObject({
      code: 'no_role',
    });
  });

  it('records the tier and the minute of the approval', () => {
    const decision = canApprove(
      request({ now: T0 + 15 * MINUTE, actor: { userId: 'U1', roles: ROLES.lead } }),
    );
    expect(decision).toMatchObject({ ok: true, minute: 15, tier: { index: 1 } });
  });
});

describe('canAct', () => {
  it('need any role of the policy, whatever the tier', () => {
    expect(canAct(policy, { userId: 'U1', roles: ROLES.oncall }, 'cancelling')).toEqual({
      ok: true,
      role: 'on-call-engineer',
    });
    expect(canAct(policy, { userId: 'U1', roles: ['intern'] }, 'cancelling')).toEqual({
      ok: false,
      code: 'no_role',
      message: 'cancelling needs a role in authority policy "default"; you hold none',
    });
    expect(canAct(policy, { userId: 'U1', roles: [] }, 'aborting')).toEqual({
      ok: false,
      code: 'no_role',
      message: 'aborting needs a role in authority policy "default"; you hold none',
    });
  });
});
