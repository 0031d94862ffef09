/**
 * Who holds which role of an authority policy, from Slack: explicit user ids, and the members of
 * the policy's user groups (`usergroups.users.list`), cached briefly. A user missing from a cached
 * group is looked up again (at most once per `minRefreshMs` per group), so someone just added to
 * the on-call group can approve at once, while a storm of clicks costs one API call.
 */
import type { Logger } from 'pino';
import { resolveRoles } from '../domain/authority.js';
import type { AuthorityPolicy } from '../domain/plan.js';

export interface UsergroupMembersApi {
  usergroups: {
    users: {
      list(args: { usergroup: string }): Promise<{ ok?: boolean; users?: string[]; error?: string }>;
    };
  };
}

interface CachedGroup {
  members: string[];
  fetchedAt: number;
}

export class RoleDirectory {
  private readonly groups = new Map<string, CachedGroup>();
  private readonly inFlight = new Map<string, Promise<string[]>>();

  constructor(
    private readonly options: {
      client: UsergroupMembersApi;
      now: () => number;
      log: Logger;
      ttlMs?: number;
      minRefreshMs?: number;
    },
  ) {}

  async rolesOf(userId: string, policy: AuthorityPolicy): Promise<string[]> {
    const members = new Map<string, string[]>();
    for (const role of policy.roles) {
      const group = role.members.usergroup;
      if (group === undefined || role.members.users.includes(userId)) continue;
      members.set(group, await this.membersOf(group, userId));
    }
    return resolveRoles(policy, userId, members);
  }

  private async membersOf(group: string, userId: string): Promise<string[]> {
    const { now } = this.options;
    const ttlMs = this.options.ttlMs ?? 60_000;
    const minRefreshMs = this.options.minRefreshMs ?? 10_000;
    const cached = this.groups.get(group);
    const age = cached ? now() - cached.fetchedAt : Infinity;
    const fresh = age < ttlMs;
    const missRefresh = cached !== undefined && !cached.members.includes(userId) && age >= minRefreshMs;
    if (cached && fresh && !missRefresh) return cached.members;
    try {
      return await this.fetch(group);
    } catch (error) {
      // Slack being unreachable must not grant anything; an older list is still the best answer.
      this.options.log.warn({ err: error, group }, 'could not refresh user group members');
      return cached?.members ?? [];
    }
  }

  private fetch(group: string): Promise<string[]> {
    const running = this.inFlight.get(group);
    if (running) return running;
    const request = this.options.client.usergroups.users
      .list({ usergroup: group })
      .then((response) => {
        const members = response.users ?? [];
        this.groups.set(group, { members, fetchedAt: this.options.now() });
        return members;
      })
      .finally(() => this.inFlight.delete(group));
    this.inFlight.set(group, request);
    return request;
  }
}
