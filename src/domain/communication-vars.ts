/**
 * The variables a communication template (DESIGN section 7) may use: the step-parameter variables
 * of `template-vars.ts` plus what a message about the rollback needs (state, tier, approvers, the
 * step or check a notice is about, the outcome, times as ISO and as text).
 *
 * Every path exists in every message, whatever the event: a template that passes `validate` never
 * meets a missing variable at run time. Values that do not apply to an event are null (rendered as
 * nothing; test them with `{{#if step.name}}`).
 */
import type { TemplateVars } from './template-vars.js';

type Shared = Pick<TemplateVars, 'service' | 'environment' | 'fromVersion' | 'strategy'>;

/**
 * `incident-opened` at the alert has no rollback yet: what only a rollback knows (its id, reason,
 * declarer, state, and the target version when no deployment was recorded) is null then.
 */
export interface CommunicationVars extends Shared {
  toVersion: string | null;
  declaredBy: string | null;
  /** A rehearsal in staging: templates should say so. */
  drill: boolean;
  /** When the notice happened: ISO, and `2026-11-23 06:14:00 UTC`. */
  at: string;
  atText: string;
  /** Since the incident started, e.g. `14m30s`. */
  duration: string;
  rollback: {
    id: string | null;
    reason: string | null;
    state: string | null;
    /** The state in words, e.g. `executing (step 2 ("Switch traffic") is running)`. */
    stateDetail: string | null;
    declaredAt: string | null;
    declaredAtText: string | null;
  };
  incident: TemplateVars['incident'] & { startedAtText: string };
  /**
   * Seed 004's INITIAL INCIDENT facts. `severity`: the alerts' `severity` label, else the plan's
   * criticality, upper-cased (`HIGH`); `criticality`: the plan's (`high`).
   */
  severity: string;
  criticality: string;
  /** What is wrong: the rollback's reason, or the alert that opened the incident. */
  issue: string;
  /** `degraded performance`, `partial outage` or `major outage`: as the status page shows it. */
  impact: string;
  /** What is being done, e.g. `Initiating rollback to the previous stable version (v1.4.1)`. */
  action: string;
  /** The declaration plus the plan's RTO (ISO, and as text), and the RTO (`15m`); null without one. */
  eta: string | null;
  etaText: string | null;
  rto: string | null;
  /** How often updates follow (`5m`) and when the next is due; null when none are sent. */
  updateEvery: string | null;
  nextUpdateAt: string | null;
  nextUpdateText: string | null;
  /** The plan's owning team. */
  owner: string | null;
  /** The authority tier in force: 1-based number (null when unknown), its approver and notified roles. */
  tier: { number: number | null; approver: string | null; notify: string | null };
  approvals: { count: number; required: number | null };
  /** Who approved so far: Slack user ids and the role that qualified them. */
  approvers: Array<{ user: string; role: string }>;
  progress: { done: number; total: number };
  /** The step a notice is about (else the running one): 1-based index. */
  step: { name: string | null; index: number | null; attempt: number | null; error: string | null };
  check: { name: string | null; status: string | null; detail: string | null };
  outcome: { code: string | null; reason: string | null; by: string | null };
}

/** `value` is a printable leaf; an object is a group (`rollback.id`); `[item]` is a list for `{{#each}}`. */
export type VariableShape = 'value' | { readonly [key: string]: VariableShape } | readonly [VariableShape];

type ShapeOf<T> = {
  readonly [K in keyof T]-?: T[K] extends ReadonlyArray<infer Item>
    ? readonly [ShapeOf<Item>]
    : T[K] extends object
      ? ShapeOf<T[K]>
      : 'value';
};

/** The shape of `CommunicationVars`, for checking templates; the compiler keeps the two in step. */
export const COMMUNICATION_VARIABLE_SHAPE: ShapeOf<CommunicationVars> = {
  service: 'value',
  environment: 'value',
  fromVersion: 'value',
  toVersion: 'value',
  strategy: 'value',
  declaredBy: 'value',
  drill: 'value',
  at: 'value',
  atText: 'value',
  duration: 'value',
  rollback: {
    id: 'value',
    reason: 'value',
    state: 'value',
    stateDetail: 'value',
    declaredAt: 'value',
    declaredAtText: 'value',
  },
  incident: { startedAt: 'value', startedAtText: 'value' },
  severity: 'value',
  criticality: 'value',
  issue: 'value',
  impact: 'value',
  action: 'value',
  eta: 'value',
  etaText: 'value',
  rto: 'value',
  updateEvery: 'value',
  nextUpdateAt: 'value',
  nextUpdateText: 'value',
  owner: 'value',
  tier: { number: 'value', approver: 'value', notify: 'value' },
  approvals: { count: 'value', required: 'value' },
  approvers: [{ user: 'value', role: 'value' }],
  progress: { done: 'value', total: 'value' },
  step: { name: 'value', index: 'value', attempt: 'value', error: 'value' },
  check: { name: 'value', status: 'value', detail: 'value' },
  outcome: { code: 'value', reason: 'value', by: 'value' },
};

/** Dotted paths of the printable variables, and the lists by name (`approvers`). */
export function variablePaths(shape: VariableShape, prefix = ''): string[] {
  if (shape === 'value') return [prefix];
  if (isList(shape)) return [prefix];
  return Object.entries(shape).flatMap(([key, child]) =>
    variablePaths(child, prefix === '' ? key : `${prefix}.${key}`),
  );
}

export function isList(shape: VariableShape): shape is readonly [VariableShape] {
  return Array.isArray(shape);
}

export const COMMUNICATION_VARIABLES: readonly string[] = variablePaths(COMMUNICATION_VARIABLE_SHAPE);
