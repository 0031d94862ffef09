import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logging.js';
import { RoleDirectory } from '../../../src/slack/role-directory.js';
import { startSlackSimulator, type SlackSimulator } from '../../../src/simulator/index.js';
import { standardPolicy, USERS } from '../../support/domain-fixtures.js';

let sim: SlackSimulator;
beforeAll(async () => {
  sim = await startSlackSimulator({
    botToken: 'xoxb-roles',
    botUserId: 'UBOT',
    teamId: 'T1',
    channels: [],
    users: {},
    usergroups: { S0ONCALL: [USERS.oncall] },
  });
});
afterAll(async () => {
  await sim.stop();
});

describe('RoleDirectory (Slack user groups through the Web API)', () => {
  it('resolves roles from user groups and ids, caches them, and looks again on a miss', async () => {
    const clock = { now: 0 };
    const client = new WebClient('xoxb-roles', { slackApiUrl: sim.url, retryConfig: { retries: 0 } });
    const roles = new RoleDirectory({
      client,
      now: () => clock.now,
      log: silentLogger,
      ttlMs: 60_000,
      minRefreshMs: 10_000,
    });
    const policy = standardPolicy();
    const lists = () => sim.callsTo('usergroups.users.list').length;

    expect(await roles.rolesOf(USERS.oncall, policy)).toEqual(['on-call-engineer']);
    expect(await roles.rolesOf(USERS.lead, policy)).toEqual(['team-lead']);
    await Promise.all(Array.from({ length: 20 }, () => roles.rolesOf(USERS.oncall, policy)));
    expect(lists()).toBe(1);

    // Someone joins the on-call group: a click within the refresh floor still sees the old list...
    sim.config.usergroups['S0ONCALL'] = [USERS.oncall, USERS.oncall2];
    expect(await roles.rolesOf(USERS.oncall2, policy)).toEqual([]);
    // ...and once it has passed, a miss looks again.
    clock.now += 10_000;
    expect(await roles.rolesOf(USERS.oncall2, policy)).toEqual(['on-call-engineer']);
    expect(lists()).toBe(2);
  });

  it('tells paging who is in a user group: empty as Slack says, null when Slack cannot tell in time', async () => {
    const clock = { now: 0 };
    const client = new WebClient('xoxb-roles', { slackApiUrl: sim.url, retryConfig: { retries: 0 } });
    const roles = new RoleDirectory({ client, now: () => clock.now, log: silentLogger, ttlMs: 60_000 });
    sim.config.usergroups['S0EMPTY'] = [];
    expect(await roles.groupMembers('S0EMPTY')).toEqual([]);
    expect(await roles.groupMembers('S0ONCALL')).toEqual(sim.config.usergroups['S0ONCALL']);
    // Slack's answer is cached like the click-time lookups: a storm of notices costs one call.
    const lists = sim.callsTo('usergroups.users.list').length;
    await roles.groupMembers('S0EMPTY');
    expect(sim.callsTo('usergroups.users.list').length).toBe(lists);
    // A group Slack refuses to list is not "empty": paging still mentions it.
    expect(await roles.groupMembers('S0GONE')).toBeNull();

    const hanging = new RoleDirectory({
      client: { usergroups: { users: { list: () => new Promise<never>(() => undefined) } } },
      now: () => clock.now,
      log: silentLogger,
      pagingWaitMs: 20,
    });
    expect(await hanging.groupMembers('S0ONCALL')).toBeNull();
  });
});
