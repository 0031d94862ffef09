/**
 * The rollback plan and authority policy as the domain sees them: already parsed and checked by
 * `src/config`, durations in milliseconds, defaults filled in. The YAML format users write lives in
 * `src/config/manifest-schema.ts`; this is the shape the machine and the authority matrix work on.
 */

export const CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

/** What a failed step does next. `retry` retries up to `times` more, then asks a human. */
export type OnFailure = { kind: 'ask' } | { kind: 'abort' } | { kind: 'retry'; times: number };

/** Executor kinds that touch a database: a plan using one always needs a human approval. */
export const DATABASE_EXECUTORS: ReadonlySet<string> = new Set(['postgres-backup']);

/**
 * A step's `when`: the step runs only if the reference (a template variable or an earlier step's
 * output) is truthy when execution reaches it, or falsy with `negate`. See `step-condition.ts`.
 */
export interface StepCondition {
  /** A template variable path, e.g. `steps.migrate-check.output.applied`. */
  ref: string;
  /** Written `{{ !ref }}`: the step runs when the reference is falsy. */
  negate: boolean;
  /** The condition as the plan wrote it, for the card and the thread. */
  text: string;
}

export interface StepSpec {
  /** Names the step in `{{ steps.<id>.output.<key> }}`; its kebab-cased name when absent. */
  id?: string;
  name: string;
  /** Executor kind, e.g. `http`, `command`, `manual`. */
  uses: string;
  /** Executor parameters, validated by the executor's own schema; may hold `{{ templates }}`. */
  with: Record<string, unknown>;
  onFailure: OnFailure;
  /** Marks a step that changes a database, so automatic triggers still wait for a human. */
  database: boolean;
  /** Runs the step only when this holds; absent (and in rollbacks stored before it existed): always. */
  when?: StepCondition;
}

/**
 * A step run after the rollback is resolved (issue 14; seed 004: "scale down old environment after
 * 5 minutes"): due `delayMs` after the resolution, run in list order through the same executors and
 * step lease as the steps. A failure is reported and stops the ones after it; it never reopens
 * the rollback.
 */
export interface AfterStepSpec {
  /** Names the step in `{{ steps.<id>.output.<key> }}` of later after-steps; kebab-cased name if absent. */
  id?: string;
  name: string;
  uses: string;
  with: Record<string, unknown>;
  /** From the resolution; 0: at once. */
  delayMs: number;
}

export interface CheckSpec {
  name: string;
  uses: string;
  with: Record<string, unknown>;
}

/**
 * While stabilising, the automatic checks run again every `everyMs`; more failed runs than
 * `failureLimit` (or one inconclusive run) ends the window and asks a human. The defaults are Argo
 * Rollouts' and Flagger's: every minute, no failure tolerated.
 */
export const STABILIZE_DEFAULTS = { everyMs: 60_000, failureLimit: 0 } as const;

export interface StrategySpec {
  name: string;
  steps: StepSpec[];
  validate: CheckSpec[];
  /** How long the service must stay healthy after validation; 0: resolved at once. */
  stabilizeMs: number;
  /** Absent in rollbacks declared before it existed: `STABILIZE_DEFAULTS.everyMs`. */
  stabilizeEveryMs?: number;
  /** Absent in rollbacks declared before it existed: `STABILIZE_DEFAULTS.failureLimit`. */
  stabilizeFailureLimit?: number;
  /**
   * Checks sampled every `everyMs` while the steps run; one that fails (a breached threshold)
   * holds the next step until a human says continue or abort. Absent: nothing watched.
   */
  watch?: { everyMs: number; checks: CheckSpec[] };
  /** Steps after resolution; absent in rollbacks declared before they existed (none). */
  after?: AfterStepSpec[];
}

/** How often `watch` checks are sampled when the plan does not say. */
export const WATCH_EVERY_DEFAULT_MS = 60_000;

export interface TriggerSpec {
  name: string;
  match: Record<string, string>;
  action: 'propose' | 'auto';
  /** Strategy to use; the plan's default when absent. */
  strategy?: string;
  delayMs: number;
}

/** Component statuses the status page shows while a service is unwell, least severe first. */
export const OUTAGE_STATUSES = ['degraded_performance', 'partial_outage', 'major_outage'] as const;
export type OutageStatus = (typeof OUTAGE_STATUSES)[number];

/**
 * What an incident of a service of this criticality does to its users, as the status page says it:
 * critical is a major outage, high a partial one, medium and low degraded performance.
 */
export const OUTAGE_BY_CRITICALITY: Record<Criticality, OutageStatus> = {
  critical: 'major_outage',
  high: 'partial_outage',
  medium: 'degraded_performance',
  low: 'degraded_performance',
};

/** The impact of an incident of this plan: its own `statuspage.componentStatus`, else its criticality's. */
export function outageOf(plan: Pick<RollbackPlan, 'criticality' | 'communications'>): OutageStatus {
  return plan.communications?.statuspage?.componentStatus ?? OUTAGE_BY_CRITICALITY[plan.criticality];
}

export interface PlanCommunications {
  sns?: { topicArn: string };
  statuspage?: {
    pageId: string;
    componentIds: string[];
    /** Overrides the component status (and impact) the criticality gives while the incident is open. */
    componentStatus?: OutageStatus;
  };
  /** Name of a `Communications` manifest whose templates and targets apply. */
  use?: string;
  templates?: Record<string, string>;
}

/** Someone to reach during an incident (seed 002's "Emergency Contacts"). */
export interface Contact {
  name: string;
  /** A Slack user id (`U...`, `W...`) or user group id (`S...`). */
  slack?: string;
  /** A phone number or pager text, as written. */
  phone?: string;
}

/** Where responders look (seed 002's "Critical Resources"): URLs, or locations as text. */
export interface PlanLinks {
  runbook?: string;
  dashboard?: string;
  logs?: string;
}

export interface RollbackPlan {
  name: string;
  service: string;
  channel: string;
  environments: string[];
  criticality: Criticality;
  /** Recovery time objective: a rollback's ETA is its declaration plus this. Absent: no ETA. */
  rtoMs?: number;
  rpoMs?: number;
  owner?: string;
  /** Absent or empty: none listed. */
  contacts?: Contact[];
  links?: PlanLinks;
  authority: string;
  defaultStrategy: string;
  strategies: Record<string, StrategySpec>;
  triggers: TriggerSpec[];
  limitations: string[];
  communications?: PlanCommunications;
}

export interface RoleMembers {
  usergroup?: string;
  users: string[];
}

export interface RoleSpec {
  name: string;
  members: RoleMembers;
}

export interface TierSpec {
  /** Minutes since the incident started, in milliseconds, from which this tier applies. */
  afterMs: number;
  approver: string;
  notify?: string;
}

export interface AuthorityPolicy {
  name: string;
  /** Rank order, lowest first: a role may do what any role below it may. */
  roles: RoleSpec[];
  /** Sorted by `afterMs`; the first starts at 0. */
  tiers: TierSpec[];
  selfApproval: boolean;
  /** Approvals needed per environment; `default` applies to any environment not listed. */
  approvalsRequired: { default: number; byEnvironment: Record<string, number> };
  reminderEveryMs: number;
  expireAfterMs: number;
}

/** True when any step of the strategy touches a database (then a human must approve). */
export function strategyNeedsHuman(strategy: StrategySpec): boolean {
  return strategy.steps.some((step) => step.database || DATABASE_EXECUTORS.has(step.uses));
}

/** Every executor kind the plan names: its steps, checks, watches and after-steps in every strategy. */
export function executorKindsOf(plan: RollbackPlan): Set<string> {
  const kinds = new Set<string>();
  for (const strategy of Object.values(plan.strategies)) {
    for (const spec of [
      ...strategy.steps,
      ...strategy.validate,
      ...(strategy.watch?.checks ?? []),
      ...(strategy.after ?? []),
    ]) {
      kinds.add(spec.uses);
    }
  }
  return kinds;
}
