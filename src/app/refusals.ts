/**
 * The application layer's one refusal shape, `{ ok: false, code, message }`, and every code it
 * carries. RollbackService and FreezeService answer with it; adapters (Slack, the HTTP API) branch on
 * the code and show the message, a sentence for a person. A new refusal adds its code here.
 */
export const REFUSAL_CODES = [
  /** No plan for the service named. */
  'unknown_service',
  /** The plan (or, for every service, no plan) covers the environment named. */
  'unknown_environment',
  /** The plan has no strategy of that name. */
  'unknown_strategy',
  /** The plan's authority policy is not loaded. */
  'unknown_policy',
  /** A drill the plan cannot run as asked (no staging, or production asked for). */
  'not_drillable',
  /** The version asked for, or the one found, is not a version steps may be given. */
  'invalid_version',
  /** The version asked for was never recorded as deployed. */
  'unknown_version',
  /** No earlier deployment to roll back to, and none asked for. */
  'unknown_target',
  /** A rollback of the service and environment is already running (`activeId` names it). */
  'active_rollback_exists',
  /** A rollback with that id already exists. */
  'duplicate_id',
  /** No rollback with that id. */
  'not_found',
  /** The rollback does not take that event now, from that person, or its targets changed. */
  'refused',
  /** The person holds no role that may do this. */
  'not_allowed',
  /** Who holds which role cannot be read now (Slack's user groups failed): nothing was changed. */
  'role_unavailable',
  /** A manual freeze is already in place. */
  'already_frozen',
  /** There is no manual freeze to lift. */
  'not_frozen',
] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];

export type Refusal<C extends RefusalCode = RefusalCode> = { ok: false; code: C; message: string };

export function refuse<C extends RefusalCode>(code: C, message: string): Refusal<C> {
  return { ok: false, code, message };
}
