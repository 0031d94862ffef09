/**
 * Who holds which role of an authority policy, from Slack: explicit user ids, and the members of
 * the policy's user groups (`usergroups.users.list`), cached briefly. A user missing from a cached
 * group is looked up again (at most once per `minRefreshMs` per group), so someone just added to
 * the on-call group can approve at once, while a storm of clicks costs one API call. Paging asks it
 * too, whether a group has anyone in it (`groupMembers`), from the same cache.
 *
 * When Slack fails (an error, or no answer within `lookupWaitMs`), the members Slack last gave may
 * stand in for at most ROLE_GRACE_MS after that answer; past it, `rolesOf` throws RoleLookupError and
 * the action is refused unchanged (unless the user holds a role at least as high for certain): a role
 * is never granted on older data. A successful answer always
 * replaces the cached one, so a person removed from a group loses its role with the first answer
 * that says so, even if Slack fails again right after.
 */
import type { Logger } from 'pino';
import { resolveRoles, unreadGroupsMatter } from '../domain/authority.js';
import type { AuthorityPolicy } from '../domain/plan.js';
import { RoleLookupError } from '../lib/errors.js';

export interface UsergroupMembersApi {
  usergroups: {
    users: {
      list(args: { usergroup: string }): Promise<{ ok?: boolean; users?: string[]; error?: string }>;
    };
  };
}

/**
 * How long after Slack's last answer its member lists may still grant a role while Slack fails.
 * Long enough to ride out a short Slack hiccup in the middle of an incident (a burst of 5xx, a rate
 * limit's Retry-After), short enough that someone removed from the on-call group cannot go on
 * approving through an outage: five minutes is also the smallest step of the seed's authority tiers
 * and reminders, so a stale answer never outlives the minute-grained decisions made on it by much.
 */
export const ROLE_GRACE_MS = 5 * 60_000;

/**
 * How long a click waits for `usergroups.users.list`. The click is acked already; past this the
 * person would click again, and the Web API client's own retries (up to half an hour in
 * production) must not hold the answer.
 */
export const ROLE_LOOKUP_WAIT_MS = 5_000;

/** Slack answered, about the group itself: it does not exist, so nobody holds a role through it. */
const GROUP_GONE: ReadonlySet<string> = new Set(['no_such_subteam']);

interface CachedGroup {
  members: string[];
  /** When the request that brought this answer was sent: the answer is at least this recent. */
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
      /** How long a click waits for Slack (default ROLE_LOOKUP_WAIT_MS). */
      lookupWaitMs?: number;
      /** How long paging waits for Slack before it pages a group it could not read (default 3 s). */
      pagingWaitMs?: number;
    },
  ) {}

  /**
   * The policy's roles the user holds now. Throws RoleLookupError when a group could not be read and
   * its role might outrank what the user holds for certain (by id, or in a group Slack did answer
   * for): a team lead listed by id still approves while the on-call group cannot be read.
   */
  async rolesOf(userId: string, policy: AuthorityPolicy): Promise<string[]> {
    const groups = policy.roles.flatMap((role) =>
      role.members.usergroup === undefined || role.members.users.includes(userId)
        ? []
        : [role.members.usergroup],
    );
    const answers = await Promise.all(
      [...new Set(groups)].map((group) =>
        this.membersOf(group, userId).then(
          (members) => ({ group, members }),
          (error: unknown) => ({ group, error }),
        ),
      ),
    );
    const read = new Map<string, string[]>();
    const unread = new Map<string, unknown>();
    for (const answer of answers) {
      if ('members' in answer) read.set(answer.group, answer.members);
      else unread.set(answer.group, answer.error);
    }
    const roles = resolveRoles(policy, userId, read);
    if (unread.size > 0 && unreadGroupsMatter(policy, roles, new Set(unread.keys()))) {
      const [first] = unread.values();
      throw first instanceof RoleLookupError ? first : new RoleLookupError(first);
    }
    return roles;
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
    try {
      return await this.fetchWithin(group, this.options.pagingWaitMs ?? 3_000);
    } catch (error) {
      this.options.log.warn({ err: error, group }, 'could not read user group members for paging');
      return this.groups.get(group)?.members ?? null;
    }
  }

  private async membersOf(group: string, userId: string): Promise<string[]> {
    const { now, log } = this.options;
    const ttlMs = this.options.ttlMs ?? 60_000;
    const minRefreshMs = this.options.minRefreshMs ?? 10_000;
    const cached = this.groups.get(group);
    const age = cached ? now() - cached.fetchedAt : Infinity;
    const fresh = age < ttlMs;
    const missRefresh = cached !== undefined && !cached.members.includes(userId) && age >= minRefreshMs;
    if (cached && fresh && !missRefresh) return cached.members;
    try {
      return await this.fetchWithin(group, this.options.lookupWaitMs ?? ROLE_LOOKUP_WAIT_MS);
    } catch (error) {
      if (GROUP_GONE.has(slackErrorOf(error) ?? '')) {
        log.error({ err: error, group }, 'a user group of an authority policy does not exist in Slack');
        return [];
      }
      // Read again: an answer may have come in while this one waited (another click's lookup).
      const latest = this.groups.get(group);
      const stale = latest ? now() - latest.fetchedAt : Infinity;
      if (latest && stale < ROLE_GRACE_MS) {
        log.warn(
          { err: error, group, ageMs: stale },
          'Slack did not answer: using its last answer about the group',
        );
        return latest.members;
      }
      log.warn({ err: error, group }, 'Slack did not answer and its last answer is too old: role unknown');
      throw new RoleLookupError(error);
    }
  }

  /**
   * The group's members from Slack, waiting at most `waitMs`. A request that outlasts the wait is
   * no longer shared: the next lookup sends its own, so one hung request cannot hold every later
   * one (its answer, should it come, is still kept if nothing newer came first).
   */
  private async fetchWithin(group: string, waitMs: number): Promise<string[]> {
    const request = this.fetch(group);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (this.inFlight.get(group) === request) this.inFlight.delete(group);
        reject(new Error(`usergroups.users.list did not answer within ${waitMs} ms`));
      }, waitMs);
    });
    try {
      return await Promise.race([request, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private fetch(group: string): Promise<string[]> {
    const running = this.inFlight.get(group);
    if (running) return running;
    const sentAt = this.options.now();
    const request = this.options.client.usergroups.users.list({ usergroup: group }).then((response) => {
      // The Web API client throws on `ok: false`; a bare client might not.
      if (response.ok === false) throw new SlackAnswerError(response.error ?? 'unknown_error');
      const members = response.users ?? [];
      const known = this.groups.get(group);
      // A late answer to an older request must not replace a newer one.
      if (!known || known.fetchedAt <= sentAt) this.groups.set(group, { members, fetchedAt: sentAt });
      return members;
    });
    const settled = request.finally(() => {
      if (this.inFlight.get(group) === settled) this.inFlight.delete(group);
    });
    this.inFlight.set(group, settled);
    return settled;
  }
}

class SlackAnswerError extends Error {
  constructor(readonly slackError: string) {
    super(`Slack answered ${slackError}`);
  }
}

/** Slack's `error` of a failed call (the Web API client's platform error, or a bare answer). */
function slackErrorOf(error: unknown): string | undefined {
  if (error instanceof SlackAnswerError) return error.slackError;
  const data = (error as { data?: { error?: unknown } } | null)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}
