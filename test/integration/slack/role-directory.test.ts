import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logging.js';
import { RoleLookupError } from '../../../src/lib/errors.js';
import { ROLE_GRACE_MS, RoleDirectory } from '../../../src/slack/role-directory.js';
import { startSlackSimulator, type SlackSimulator } from '../../../src/simulator/index.js';
import { MINUTE, standardPolicy, USERS } from '../../support/domain-fixtures.js';

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

  describe('when usergroups.users.list fails or hangs', () => {
    const LIST = 'usergroups.users.list';
    afterEach(() => {
      sim.clearFaults();
      sim.config.usergroups['S0ONCALL'] = [USERS.oncall];
    });
    function directory(clock: { now: number }) {
      // Quiet: the simulator cuts the requests it held when it stops, and the client would say so.
      const client = new WebClient('xoxb-roles', {
        slackApiUrl: sim.url,
        retryConfig: { retries: 0 },
        logLevel: LogLevel.ERROR,
      });
      return new RoleDirectory({ client, now: () => clock.now, log: silentLogger, lookupWaitMs: 200 });
    }
    const policy = standardPolicy();

    it('refuses to tell without any answer from Slack, erring or hanging', async () => {
      const clock = { now: 0 };
      for (const fault of [
        { kind: 'http500' },
        { kind: 'error', error: 'fatal_error' },
        { kind: 'hang' },
      ] as const) {
        sim.failAlways(LIST, fault);
        const error = await directory(clock)
          .rolesOf(USERS.oncall, policy)
          .catch((e: unknown) => e);
        expect(error, fault.kind).toBeInstanceOf(RoleLookupError);
        expect((error as RoleLookupError).userMessage).toBe(
          "Cannot check your role now (Slack's user groups did not answer) — nothing was changed, try again in a minute.",
        );
      }
    });

    it('uses the last answer for at most ROLE_GRACE_MS after it, then refuses; never older data', async () => {
      const clock = { now: 0 };
      const roles = directory(clock);
      expect(await roles.rolesOf(USERS.oncall, policy)).toEqual(['on-call-engineer']);
      sim.failAlways(LIST, { kind: 'hang' });
      // Past the cache's minute, Slack is asked again and does not answer: the answer of 2 minutes ago stands.
      clock.now = 2 * MINUTE;
      expect(await roles.rolesOf(USERS.oncall, policy)).toEqual(['on-call-engineer']);
      sim.failAlways(LIST, { kind: 'error', error: 'internal_error' });
      clock.now = ROLE_GRACE_MS - 1;
      expect(await roles.rolesOf(USERS.oncall, policy)).toEqual(['on-call-engineer']);
      clock.now = ROLE_GRACE_MS;
      await expect(roles.rolesOf(USERS.oncall, policy)).rejects.toBeInstanceOf(RoleLookupError);
      // Someone who holds a higher role for certain (by id) is not held up by the unread group.
      expect(await roles.rolesOf(USERS.lead, policy)).toEqual(['team-lead']);
      // Slack answers again: a fresh answer, no refusal.
      sim.clearFaults(LIST);
      expect(await roles.rolesOf(USERS.oncall, policy)).toEqual(['on-call-engineer']);
    });

    it('does not let one hung request hold every later lookup', async () => {
      const clock = { now: 0 };
      const roles = directory(clock);
      sim.failAlways(LIST, { kind: 'hang' });
      await expect(roles.rolesOf(USERS.oncall, policy)).rejects.toBeInstanceOf(RoleLookupError);
      const sent = sim.callsTo(LIST).length;
      sim.clearFaults(LIST);
      // The hung request is still open; the next lookup sends its own and gets Slack's answer.
      expect(await roles.rolesOf(USERS.oncall, policy)).toEqual(['on-call-engineer']);
      expect(sim.callsTo(LIST).length).toBe(sent + 1);
    });

    it('takes the role away with the first answer that says so, and keeps it away while Slack fails', async () => {
      const clock = { now: 0 };
      const roles = directory(clock);
      expect(await roles.rolesOf(USERS.oncall, policy)).toEqual(['on-call-engineer']);
      sim.config.usergroups['S0ONCALL'] = [USERS.oncall2];
      clock.now = MINUTE;
      expect(await roles.rolesOf(USERS.oncall, policy)).toEqual([]);
      // Slack fails from now on: the older answer that listed them never comes back.
      sim.failAlways(LIST, { kind: 'http500' });
      for (const now of [MINUTE + 10_000, 2 * MINUTE, 3 * MINUTE]) {
        clock.now = now;
        expect(await roles.rolesOf(USERS.oncall, policy)).toEqual([]);
      }
      clock.now = MINUTE + ROLE_GRACE_MS;
      await expect(roles.rolesOf(USERS.oncall, policy)).rejects.toBeInstanceOf(RoleLookupError);
    });

    it('reads a group Slack says does not exist as empty, not as unknown', async () => {
      const clock = { now: 0 };
      const gone = standardPolicy({
        roles: [
          { name: 'on-call-engineer', members: { usergroup: 'S0DELETED', users: [] } },
          { name: 'team-lead', members: { users: [USERS.lead] } },
        ],
      });
      expect(await directory(clock).rolesOf(USERS.oncall, gone)).toEqual([]);
    });
  });
});
