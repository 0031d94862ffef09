/**
 * The roles a person holds at the moment they act, as the application services ask for them: the
 * lookup (Slack user groups, src/slack/role-directory.ts) may fail, and then the action is refused
 * with the one refusal shape, never decided on a guess.
 */
import type { AuthorityPolicy } from '../domain/plan.js';
import { RoleLookupError } from '../lib/errors.js';
import { refuse, type Refusal } from './refusals.js';

/** The policy's roles this user holds now; throws `RoleLookupError` when that cannot be told. */
export type RolesOf = (userId: string, policy: AuthorityPolicy) => Promise<string[]>;

export async function rolesNow(
  rolesOf: RolesOf,
  userId: string,
  policy: AuthorityPolicy,
): Promise<{ ok: true; roles: string[] } | Refusal<'role_unavailable'>> {
  try {
    return { ok: true, roles: await rolesOf(userId, policy) };
  } catch (error) {
    if (error instanceof RoleLookupError) return refuse('role_unavailable', error.userMessage);
    throw error;
  }
}
