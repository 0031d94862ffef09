/**
 * Whom a tier pages: the roles of the rollback's own policy, the next role up when nobody holds
 * the tier's role (an empty user group as Slack reports it, or nobody listed), and a group Slack
 * could not read paged anyway.
 */
import { describe, expect, it } from 'vitest';
import type { AuthorityPolicy } from '../../../src/domain/plan.js';
import { pageTier, type GroupMembers } from '../../../src/slack/paging.js';
import { standardPolicy, USERS } from '../../support/domain-fixtures.js';

/** on-call (group S0ONCALL) < team-lead (group S0LEADS) < engineering-manager (a user) < ... */
const policy: AuthorityPolicy = standardPolicy({
  roles: [
    { name: 'on-call-engineer', members: { usergroup: 'S0ONCALL', users: [] } },
    { name: 'team-lead', members: { usergroup: 'S0LEADS', users: [] } },
    ...standardPolicy().roles.slice(2),
  ],
});

/** Slack's answers per group; every lookup is recorded. */
function slack(groups: Record<string, readonly string[] | null>) {
  const asked: string[] = [];
  const groupMembers: GroupMembers = (group) => {
    asked.push(group);
    return Promise.resolve(group in groups ? groups[group]! : [USERS.oncall]);
  };
  return { asked, groupMembers };
}

describe('pageTier', () => {
  it('pages the tier roles themselves when someone holds them', async () => {
    const { groupMembers } = slack({});
    const page = await pageTier(policy, { approver: 'on-call-engineer', notify: 'team-lead' }, groupMembers);
    expect(page.approver).toEqual({ role: 'on-call-engineer', paged: policy.roles[0], unheld: [] });
    expect(page.notify).toEqual({ role: 'team-lead', paged: policy.roles[1], unheld: [] });
  });

  it('walks up past every role nobody holds to the first that someone holds', async () => {
    const { asked, groupMembers } = slack({ S0ONCALL: [], S0LEADS: [] });
    const page = await pageTier(policy, { approver: 'on-call-engineer' }, groupMembers);
    expect(page.approver.paged?.name).toBe('engineering-manager');
    expect(page.approver.unheld).toEqual(['on-call-engineer', 'team-lead']);
    expect(page.notify).toBeUndefined();
    // A role listed by user id needs no lookup.
    expect(asked).toEqual(['S0ONCALL', 'S0LEADS']);
  });

  it('takes a role with neither a user group nor a user id as held by nobody', async () => {
    const bare = standardPolicy({
      roles: [{ name: 'on-call-engineer', members: { users: [] } }, ...standardPolicy().roles.slice(1)],
    });
    const page = await pageTier(bare, { approver: 'on-call-engineer' }, slack({}).groupMembers);
    expect(page.approver).toMatchObject({ paged: { name: 'team-lead' }, unheld: ['on-call-engineer'] });
  });

  it('pages a user group Slack could not read: skipping it could skip the people on call', async () => {
    const page = await pageTier(
      policy,
      { approver: 'on-call-engineer' },
      slack({ S0ONCALL: null }).groupMembers,
    );
    expect(page.approver).toEqual({ role: 'on-call-engineer', paged: policy.roles[0], unheld: [] });
  });

  it('says when nobody holds the role or any above it, and a notify role nobody holds', async () => {
    const top = standardPolicy({
      roles: [
        { name: 'on-call-engineer', members: { usergroup: 'S0ONCALL', users: [] } },
        { name: 'team-lead', members: { usergroup: 'S0LEADS', users: [] } },
      ],
    });
    const page = await pageTier(
      top,
      { approver: 'on-call-engineer', notify: 'team-lead' },
      slack({ S0ONCALL: [], S0LEADS: [] }).groupMembers,
    );
    expect(page.approver).toEqual({
      role: 'on-call-engineer',
      paged: null,
      unheld: ['on-call-engineer', 'team-lead'],
    });
    // Told for information only: nobody above is told instead.
    expect(page.notify).toEqual({ role: 'team-lead', paged: null, unheld: ['team-lead'] });
  });

  it('reads only the policy it is given: two policies sharing role names page their own people', async () => {
    const other: AuthorityPolicy = {
      ...policy,
      name: 'payments',
      roles: [{ name: 'on-call-engineer', members: { usergroup: 'S0PAYONCALL', users: [] } }],
    };
    const { groupMembers } = slack({});
    const mine = await pageTier(policy, { approver: 'on-call-engineer' }, groupMembers);
    const theirs = await pageTier(other, { approver: 'on-call-engineer' }, groupMembers);
    expect(mine.approver.paged?.members.usergroup).toBe('S0ONCALL');
    expect(theirs.approver.paged?.members.usergroup).toBe('S0PAYONCALL');
  });
});
