/**
 * Who holds which role of an authority policy, from Slack: explicit user ids, and the members of
 * the policy's user groups (`usergroups.users.list`), cached briefly. A user missing from a cached
 * group is looked up again (at most once per `minRefreshMs` per group), so someone just added to
 * the on-call group can approve at once, while a storm of clicks costs one API call. Paging asks it
 * too, whether a group has anyone in it (`groupMembers`), from the same cache.
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
      /** How long paging waits for Slack before it pages a group it could not read (default 3 s). */
      pagingWaitMs?: number;
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

  /**
   * The members of a user group as Slack reports them now (within the cache's lifetime), or null
   * when Slack could not tell in time. Paging treats only an answered empty list as "nobody holds
   * it": a group it merely failed to read is still paged, and a slow Slack never holds a notice
   * back for long (the lookup goes on and fills the cache for the next one).
   */
  async groupMembers(group: string): Promise<readonly string[] | null> {
    const cached = this.groups.get(group);
    if (cached && this.options.now() - cached.fetchedAt < (this.options.ttlMs ?? 60_000))
      return cached.members;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        resolve(null);
      }, this.options.pagingWaitMs ?? 3_000);
    });
    const fetched = this.fetch(group).catch((error: unknown) => {
      this.options.log.warn({ err: error, group }, 'could not read user group members for paging');
      return null;
    });
    try {
      return (await Promise.race([fetched, late])) ?? cached?.members ?? null;
    } finally {
      clearTimeout(timer);
    }
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
