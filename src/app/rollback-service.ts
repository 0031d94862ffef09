/**
 * The one way into rollbacks for Slack, alerts and the HTTP API: declare from a plan, act on one
 * (approve, retry, cancel ...), read them. Turns the plan and the authority policy in force into the
 * machine's input, resolves who the actor is at the moment they act, and answers with outcomes that
 * carry a message a person can read.
 */
import type { Logger } from 'pino';
import type { CommunicationsPolicy } from '../domain/communications.js';
import type { AuthorityPolicy, RollbackPlan } from '../domain/plan.js';
import { strategyNeedsHuman } from '../domain/plan.js';
import type { FiringAlert, RollbackContext, RollbackInput, Trigger } from '../domain/rollback-types.js';
import { firingOf, type IncidentAlert } from '../domain/incident.js';
import { parseVersion } from '../domain/version.js';
import type { DispatchResult, Engine } from '../engine/engine.js';
import { closest } from '../schema/did-you-mean.js';
import type { ActiveLocks, Deployments, RollbackReader, StoredRollback } from '../store/store.js';
import { DRILL_ENVIRONMENT } from './drill-records.js';
import { refuse, type Refusal } from './refusals.js';
import { rolesNow, type RolesOf } from './roles.js';
import type { TargetResolver } from '../domain/step-target.js';
import { contextOf } from './rollback-view.js';
import { afterStepsOver } from '../domain/rollback-after.js';

export interface Catalog {
  plans: ReadonlyMap<string, RollbackPlan>;
  policies: ReadonlyMap<string, AuthorityPolicy>;
  /** Communications manifests by name (a plan names one with `communications.use`). */
  communications?: ReadonlyMap<string, CommunicationsPolicy>;
}

/** The seeds' "Updates: every 5 minutes" while a rollback runs, unless a Communications manifest says otherwise. */
export const DEFAULT_UPDATE_EVERY_MS = 5 * 60_000;

export interface RollbackServiceOptions {
  engine: Pick<Engine<RollbackInput>, 'declare' | 'dispatch'>;
  /** Writes go through the engine; deployments give the version a rollback restores. */
  store: RollbackReader & Deployments & Pick<ActiveLocks, 'activeRollbackId'>;
  catalog: () => Catalog;
  /** The policy's roles this user holds now (Slack user groups are looked up at click time). */
  rolesOf: RolesOf;
  now: () => number;
  newId: () => string;
  log: Logger;
  /** Reads what platform steps would change (absent: no step resolves, versions come from CI). */
  resolver?: TargetResolver;
  /** The open incident a declaration joins (and whose start it inherits); absent: none. */
  incidents?: {
    current(
      service: string,
      environment: string,
    ): Promise<{
      id: string;
      startedAt: number;
      alerts?: readonly IncidentAlert[];
      severity?: string;
    } | null>;
    join(incidentId: string, rollbackId: string): Promise<void>;
  };
}

export interface DeclareRequest {
  service: string;
  environment?: string | undefined;
  toVersion?: string | undefined;
  strategy?: string | undefined;
  reason?: string | undefined;
  by: string;
  /** The incident's start when an alert opened it; else the declaration time. */
  incidentStartedAt?: number;
  trigger?: Trigger;
  /** A rehearsal: runs against staging (the plan must have it), labelled everywhere, left out of stats. */
  drill?: boolean;
}

export type DeclareOutcome =
  { ok: true; rollback: StoredRollback; plan: RollbackPlan } | (Refusal & { activeId?: string });

export type ActOutcome =
  { ok: true; rollback: StoredRollback } | Refusal<'not_found' | 'refused' | 'role_unavailable'>;

/** The events a person may send from Slack or the API (workers send the others). */
export type HumanEvent =
  | { type: 'APPROVE'; digest?: string }
  | { type: 'REJECT' | 'CANCEL' | 'START_NOW' | 'ABORT' | 'ACCEPT' | 'CONTINUE'; reason?: string }
  | { type: 'RETRY_STEP'; step?: number }
  | { type: 'SKIP_STEP'; step: number }
  | { type: 'MANUAL_DONE'; check: number };

const DEFAULT_ENVIRONMENT = 'production';

/**
 * Resolved rollbacks of a service looked at for steps after resolution to call off. Each
 * declaration calls off those before it, so only the newest should have any: the few more are
 * a margin, not a search.
 */
const SUPERSEDE_LOOKBACK = 10;

/** What a rollback keeps of its plan besides the strategy: RTO, owner, contacts, links (those given). */
function planFacts(plan: RollbackPlan): Partial<RollbackInput> {
  return {
    ...(plan.rtoMs === undefined ? {} : { rtoMs: plan.rtoMs }),
    ...(plan.owner === undefined ? {} : { owner: plan.owner }),
    ...(plan.contacts === undefined || plan.contacts.length === 0 ? {} : { contacts: plan.contacts }),
    ...(plan.links === undefined ? {} : { links: plan.links }),
  };
}

/** The Communications manifest a plan uses (`communications.use`), if any. */
export function communicationsOf(catalog: Catalog, plan: RollbackPlan): CommunicationsPolicy | undefined {
  const use = plan.communications?.use;
  return use === undefined ? undefined : catalog.communications?.get(use);
}

/** The service's plan, or a sentence naming the closest service or the ones there are. */
export function findPlan(
  plans: ReadonlyMap<string, RollbackPlan>,
  service: string,
): { ok: true; plan: RollbackPlan } | Refusal<'unknown_service'> {
  const plan = plans.get(service);
  if (plan) return { ok: true, plan };
  const suggestion = closest(service, plans.keys());
  return refuse(
    'unknown_service',
    suggestion
      ? `no rollback plan for "${service}": did you mean \`${suggestion}\`?`
      : `no rollback plan for "${service}"; plans exist for: ${[...plans.keys()].join(', ') || 'none (check ROLLBACK_CONFIG)'}.`,
  );
}

/**
 * What a rollback declared now would go from and to, as recorded by CI: the current deployment and
 * the one before it (what stakeholders are told before anyone declares).
 */
export async function recordedVersions(
  store: Deployments,
  service: string,
  environment: string,
): Promise<{ from: string | null; to: string | null }> {
  const [current, previous] = await store.listDeployments(service, environment, 2);
  return { from: current?.version ?? null, to: previous?.version ?? null };
}

/** The environment asked for, else production when the plan covers it, else the plan's first. */
export function environmentOf(
  plan: RollbackPlan,
  requested: string | undefined,
): { ok: true; environment: string } | Refusal<'unknown_environment'> {
  const environment =
    requested ??
    (plan.environments.includes(DEFAULT_ENVIRONMENT) ? DEFAULT_ENVIRONMENT : plan.environments[0]!);
  if (plan.environments.includes(environment)) return { ok: true, environment };
  return refuse(
    'unknown_environment',
    `the ${plan.service} plan covers ${plan.environments.join(', ')}, not "${environment}".`,
  );
}

/** Why a drill of this plan cannot run as asked, if it cannot. */
function drillRefusal(plan: RollbackPlan, requested: string | undefined): string | undefined {
  if (requested !== undefined && requested !== DRILL_ENVIRONMENT)
    return `a drill runs against ${DRILL_ENVIRONMENT}, never against ${requested}.`;
  if (!plan.environments.includes(DRILL_ENVIRONMENT))
    return `the ${plan.service} plan covers ${plan.environments.join(', ')} but not ${DRILL_ENVIRONMENT}, so it cannot be drilled: add ${DRILL_ENVIRONMENT} to its spec.environments.`;
  return undefined;
}

export class RollbackService {
  constructor(private readonly options: RollbackServiceOptions) {}

  plans(): RollbackPlan[] {
    return [...this.options.catalog().plans.values()];
  }

  findPlan(service: string): ReturnType<typeof findPlan> {
    return findPlan(this.options.catalog().plans, service);
  }

  async declare(request: DeclareRequest): Promise<DeclareOutcome> {
    const { now, newId, store, engine } = this.options;
    const found = this.findPlan(request.service);
    if (!found.ok) return found;
    const plan = found.plan;
    if (request.drill === true) {
      const refusal = drillRefusal(plan, request.environment);
      if (refusal !== undefined) return refuse('not_drillable', refusal);
    }
    const resolved = environmentOf(
      plan,
      request.environment ?? (request.drill === true ? DRILL_ENVIRONMENT : undefined),
    );
    if (!resolved.ok) return resolved;
    const environment = resolved.environment;
    const strategyName = request.strategy ?? plan.defaultStrategy;
    const strategy = plan.strategies[strategyName];
    if (!strategy) {
      const suggestion = closest(strategyName, Object.keys(plan.strategies));
      return refuse(
        'unknown_strategy',
        `the ${plan.service} plan has no strategy "${strategyName}"${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}; it has ${Object.keys(plan.strategies).join(', ')}.`,
      );
    }
    const policy = this.options.catalog().policies.get(plan.authority);
    if (!policy) {
      return refuse(
        'unknown_policy',
        `authority policy "${plan.authority}" is not loaded; run \`rollback-bot validate\`.`,
      );
    }
    const deployments = await store.listDeployments(plan.service, environment, 2);
    const recordedFrom = this.recordedVersion(deployments[0]?.version, plan.service, environment);
    const resolver = this.options.resolver?.resolves(strategy) ? this.options.resolver : undefined;
    const at = now();
    const id = newId();
    // A drill is practice: it neither inherits a real incident's start nor shows in its thread.
    const incident =
      request.drill === true ? null : await this.options.incidents?.current(plan.service, environment);
    const incidentStartedAt = Math.min(request.incidentStartedAt ?? at, incident?.startedAt ?? at, at);
    const reason = request.reason ?? 'no reason given';
    if (request.toVersion !== undefined) {
      const asked = parseVersion(request.toVersion);
      if (!asked.ok) return refuse('invalid_version', asked.message);
    }
    // Platform steps say what runs and what they would restore, before anyone approves.
    const targets = resolver
      ? await resolver.resolve({
          id,
          service: plan.service,
          environment,
          reason,
          declaredBy: request.by,
          incidentStartedAt,
          fromVersion: recordedFrom,
          toVersion: request.toVersion ?? null,
          strategy,
        })
      : undefined;
    if (targets?.unknownVersion !== undefined) {
      return refuse('unknown_version', targets.unknownVersion);
    }
    const fromVersion =
      this.recordedVersion(targets?.versions.current, plan.service, environment) ?? recordedFrom;
    const recordedTarget = targets?.versions.target ?? deployments[1]?.version;
    const target = request.toVersion ?? recordedTarget;
    if (target === undefined) {
      return refuse(
        'unknown_target',
        `no earlier deployment of ${plan.service} in ${environment} is recorded: say which version to roll back to with --to VERSION.`,
      );
    }
    // Every way in checks the version already; this is the last gate before step parameters, and
    // the only one for a deployment recorded before versions were checked.
    const version = parseVersion(target);
    if (!version.ok) {
      return refuse(
        'invalid_version',
        request.toVersion === undefined
          ? `the previous recorded deployment of ${plan.service} in ${environment} cannot be rolled back to (${version.message}): say which version with --to VERSION.`
          : version.message,
      );
    }
    const toVersion = version.version;
    const input: RollbackInput = {
      id,
      service: plan.service,
      environment,
      strategy,
      policy,
      fromVersion,
      toVersion,
      reason,
      declaredBy: request.by,
      at,
      incidentStartedAt,
      resolution: targets?.resolution ?? null,
      trigger: request.trigger ?? { kind: 'manual' },
      drill: request.drill ?? false,
      requiresHuman: strategyNeedsHuman(strategy),
      updateEveryMs: this.communicationsOf(plan)?.updateEveryMs ?? DEFAULT_UPDATE_EVERY_MS,
      // What fires now must stop before the rollback may call the service stable.
      firingAlerts: firingOf(incident?.alerts ?? []),
      // Its card goes on the incident's message, its notices into that one thread.
      // The ETA and who owns it, as the plan says now: a config reload changes neither later.
      ...planFacts(plan),
      ...(incident ? { incidentId: incident.id } : {}),
      ...(incident?.severity === undefined ? {} : { severity: incident.severity }),
    };
    await this.supersede(plan.service, environment, id, request.by, at);
    const result = await engine.declare({ id, service: plan.service, environment }, input, at, request.by);
    if (!result.ok) {
      return {
        ...refuse(result.code, result.message),
        ...(result.code === 'active_rollback_exists' ? { activeId: result.activeId } : {}),
      };
    }
    if (incident) {
      await this.options.incidents?.join(incident.id, id).catch((error: unknown) => {
        this.options.log.warn(
          { err: error, incident: incident.id, rollbackId: id },
          'could not link the rollback to its incident',
        );
      });
    }
    return { ok: true, rollback: result.rollback, plan };
  }

  /**
   * Calls off the steps after resolution that earlier rollbacks of this service and environment
   * still have to run (scaling the old colour down 5 minutes after the switch ...): they would act
   * on what this rollback is about to change. Done before the new rollback exists, so that no crash
   * in between can leave one due while it runs; if its declaration is then refused, the clean-up
   * stays called off (said in the old thread), which is the safe side.
   */
  private async supersede(
    service: string,
    environment: string,
    newId: string,
    by: string,
    at: number,
  ): Promise<void> {
    const { store, engine, log } = this.options;
    const resolved = await store.listRollbacks({ service, state: 'resolved', limit: SUPERSEDE_LOOKBACK });
    for (const rollback of resolved) {
      if (rollback.environment !== environment || afterStepsOver(contextOf(rollback))) continue;
      const result = await engine.dispatch(
        rollback.id,
        { type: 'SUPERSEDED', rollbackId: newId, by, at },
        rollback,
      );
      if (!result.ok) log.info({ rollbackId: rollback.id, reason: result.message }, 'nothing to call off');
    }
  }

  /** A recorded current version, or null (unknown) when it is not a version steps may be given. */
  private recordedVersion(recorded: string | undefined, service: string, environment: string): string | null {
    if (recorded === undefined) return null;
    const version = parseVersion(recorded);
    if (version.ok) return version.version;
    this.options.log.warn(
      { service, environment, reason: version.message },
      'the current recorded deployment has no usable version: fromVersion is unknown',
    );
    return null;
  }

  /** The Communications manifest the plan uses, if any. */
  communicationsOf(plan: RollbackPlan): CommunicationsPolicy | undefined {
    return communicationsOf(this.options.catalog(), plan);
  }

  /**
   * The alerts of a service and environment changed: its active rollback hears which fire now
   * (stabilisation cannot pass while one does). A rollback that ended meanwhile refuses it: fine.
   */
  async alertsChanged(service: string, environment: string, firing: FiringAlert[]): Promise<void> {
    const { store, engine, now } = this.options;
    const id = await store.activeRollbackId(service, environment);
    if (id === null) return;
    await engine.dispatch(id, { type: 'ALERTS_FIRING', alerts: firing, by: 'alerts', at: now() });
  }

  /** A person's decision: the actor's roles are resolved now, on the server, whatever the card says. */
  async act(rollbackId: string, userId: string, event: HumanEvent): Promise<ActOutcome> {
    const { store, engine, now, rolesOf } = this.options;
    const current = await store.getRollback(rollbackId);
    if (!current) return refuse('not_found', `there is no rollback ${rollbackId}.`);
    const context = contextOf(current);
    if (event.type === 'APPROVE') {
      const changed = await this.targetsChanged(rollbackId, context, event.digest);
      if (changed !== null) return refuse('refused', changed);
    }
    const held = await rolesNow(rolesOf, userId, context.policy);
    if (!held.ok) return held;
    // Decided on the record read above (the engine reads again if it is out of date).
    const result = await engine.dispatch(
      rollbackId,
      { ...event, by: userId, roles: held.roles, at: now() },
      current,
    );
    return result.ok ? { ok: true, rollback: result.rollback } : refusalOf(result);
  }

  /**
   * An approval is for what the card showed. The targets are read again at the click: when they
   * differ (someone deployed, a target vanished or came back), the new reading replaces the old one,
   * the card is redrawn, and this click is refused with why.
   */
  private async targetsChanged(
    rollbackId: string,
    context: RollbackContext,
    seen: string | undefined,
  ): Promise<string | null> {
    const { resolver, engine, now } = this.options;
    const resolution = context.resolution;
    if (!resolver || resolution === null) return null;
    const fresh = await resolver.resolve({ ...context, toVersion: resolution.asked });
    if (fresh.resolution.digest !== resolution.digest) {
      await engine.dispatch(rollbackId, {
        type: 'TARGETS_RESOLVED',
        resolution: fresh.resolution,
        by: 'system',
        at: now(),
      });
      return 'What this rollback would change is different now (someone deployed, or a target changed): the card shows the new targets. Check them and approve again.';
    }
    if (seen !== undefined && seen !== resolution.digest) {
      return 'This card was drawn for other targets than the ones the rollback would restore now: the card shows them. Check them and approve again.';
    }
    return null;
  }
}

/**
 * The engine refuses in the application's shape already (`{ ok: false, code, message }`, as the
 * domain and the decider do), with codes that are in REFUSAL_CODES; this keeps just that, leaving
 * out the stored record a `refused` dispatch also carries.
 */
export function refusalOf(result: Extract<DispatchResult, { ok: false }>): Refusal<'not_found' | 'refused'> {
  return refuse(result.code, result.message);
}
