/**
 * The deployment freeze of a service and environment (DESIGN sections 8 and 9): on while a rollback
 * of it is active, or while someone holding a role of the plan's authority policy has frozen it by
 * hand (`/rollback freeze on|off`). CI asks `GET /api/freeze` before it deploys.
 *
 * The rollback part is read from the active-rollback lock at the moment of asking, not copied into a
 * freeze record: a copy could outlive its rollback if an effect were lost. Manual freezes are store
 * docs (collection `freezes`, key `service/environment`) saying who, why and since when.
 */
import { z } from 'zod';
import { didYouMean } from '../schema/did-you-mean.js';
import { COLLECTIONS } from '../store/collections.js';
import type { ActiveLocks, Docs, RollbackReader } from '../store/store.js';
import { refuse, type Refusal } from './refusals.js';
import { rolesNow, type RolesOf } from './roles.js';
import { environmentOf, findPlan, type Catalog } from './rollback-service.js';

export interface ManualFreeze {
  service: string;
  environment: string;
  /** Slack user id of who froze it. */
  by: string;
  reason: string;
  at: number;
}

const manualFreezeSchema = z.object({
  service: z.string().min(1),
  environment: z.string().min(1),
  by: z.string().min(1),
  reason: z.string(),
  at: z.number(),
});

/** The answer of `GET /api/freeze` (DESIGN section 9), plus the manual freeze behind it, if any. */
export type FreezeStatus =
  { frozen: false } | { frozen: true; reason: string; rollbackId?: string; manual?: ManualFreeze };

/** A version a resolved rollback moved away from: CI must not deploy it again until a human says so. */
export interface BadVersion {
  service: string;
  environment: string;
  version: string;
  rollbackId: string;
  at: number;
}

const badKey = (service: string, environment: string, version: string): string =>
  `${freezeKey(service, environment)}/${version}`;

/** One current freeze, manual or held by a rollback, for listings and App Home. */
export interface FreezeEntry {
  service: string;
  environment: string;
  kind: 'manual' | 'rollback';
  reason: string;
  /** Who froze it by hand, or who declared the rollback. */
  by: string;
  since: number;
  rollbackId?: string;
}

export type FreezeOutcome =
  | { ok: true; freeze: ManualFreeze }
  | Refusal<
      | 'unknown_service'
      | 'unknown_environment'
      | 'unknown_policy'
      | 'not_allowed'
      | 'role_unavailable'
      | 'already_frozen'
      | 'not_frozen'
    >;

export interface FreezeRequest {
  service: string;
  environment?: string | undefined;
  by: string;
  reason?: string | undefined;
}

export interface FreezeServiceOptions {
  store: Docs & RollbackReader & Pick<ActiveLocks, 'activeRollbackId'>;
  catalog: () => Catalog;
  /** The policy's roles this user holds now (the same lookup approvals use). */
  rolesOf: RolesOf;
  now: () => number;
}

export const freezeKey = (service: string, environment: string): string => `${service}/${environment}`;

/** `/rollback freeze on` with no service freezes every service (in one environment, or in all). */
export const ALL = '*';

function parseFreeze(value: unknown): ManualFreeze | null {
  const parsed = manualFreezeSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** `frozen by U123: release train` */
export const manualReason = (freeze: ManualFreeze): string => `frozen by ${freeze.by}: ${freeze.reason}`;

type Target = { ok: true; service: string; environment: string } | Extract<FreezeOutcome, { ok: false }>;

export class FreezeService {
  constructor(private readonly options: FreezeServiceOptions) {}

  /** Freezes deploys of the service and environment by hand, until someone lifts it. */
  async freeze(request: FreezeRequest): Promise<FreezeOutcome> {
    const target = await this.authorise(request, 'freeze');
    if (!target.ok) return target;
    const key = freezeKey(target.service, target.environment);
    const freeze: ManualFreeze = {
      service: target.service,
      environment: target.environment,
      by: request.by,
      reason: request.reason?.trim() || 'no reason given',
      at: this.options.now(),
    };
    if (await this.options.store.putDoc(COLLECTIONS.freezes, key, freeze, 0)) return { ok: true, freeze };
    const existing = await this.manual(target.service, target.environment);
    const lift = `/rollback freeze off${target.service === ALL ? '' : ` ${target.service}`}${target.environment === ALL ? '' : ` --env ${target.environment}`}`;
    return refuse(
      'already_frozen',
      `${describeTarget(target)} is already ${existing ? `${manualReason(existing)} (since ${new Date(existing.at).toISOString()})` : 'frozen'}; lift it first with \`${lift}\`.`,
    );
  }

  /** Lifts a manual freeze. A rollback's freeze lifts itself when the rollback ends. */
  async lift(request: Omit<FreezeRequest, 'reason'>): Promise<FreezeOutcome> {
    const target = await this.authorise(request, 'lift');
    if (!target.ok) return target;
    const { service } = target;
    const existing = await this.manual(service, target.environment);
    const cleared = await this.clearBad(service, target.environment);
    if (existing === null && cleared.length > 0) {
      return {
        ok: true,
        freeze: {
          service,
          environment: target.environment,
          by: request.by,
          reason: `${cleared.join(', ')} marked bad by a rollback; CI may deploy them again`,
          at: this.options.now(),
        },
      };
    }
    if (existing === null) {
      const status = await this.status(service, target.environment);
      return refuse(
        'not_frozen',
        status.frozen
          ? `${describeTarget(target)} has no manual freeze to lift; it is frozen because ${status.reason}${status.rollbackId === undefined ? '' : ', and that lifts itself when the rollback ends'}.`
          : `${describeTarget(target)} is not frozen.`,
      );
    }
    await this.options.store.deleteDoc(COLLECTIONS.freezes, freezeKey(service, target.environment));
    return { ok: true, freeze: existing };
  }

  /**
   * Whether deploys of the service to the environment must wait; an unknown service is not frozen.
   * With a version: also whether a resolved rollback marked that version bad.
   */
  async status(service: string, environment: string, version?: string): Promise<FreezeStatus> {
    const [own, everyService, everything, active, bad] = await Promise.all([
      this.manual(service, environment),
      this.manual(ALL, environment),
      this.manual(ALL, ALL),
      this.activeRollback(service, environment),
      version === undefined
        ? Promise.resolve(null)
        : this.options.store.getDoc<BadVersion>(
            COLLECTIONS.badVersions,
            badKey(service, environment, version),
          ),
    ]);
    const manual = own ?? everyService ?? everything;
    const marked = bad?.value;
    const reasons = [
      ...(active ? [`rollback ${active.id} is ${active.state}`] : []),
      ...(manual ? [manualReason(manual)] : []),
      ...(marked
        ? [
            `version ${marked.version} was rolled back by ${marked.rollbackId}; \`/rollback freeze off ${service} --env ${environment}\` clears it`,
          ]
        : []),
    ];
    if (reasons.length === 0) return { frozen: false };
    const rollbackId = active?.id ?? marked?.rollbackId;
    return {
      frozen: true,
      reason: reasons.join('; '),
      ...(rollbackId === undefined ? {} : { rollbackId }),
      ...(manual ? { manual } : {}),
    };
  }

  /** Marks the version a resolved rollback moved away from (once: a repeat changes nothing). */
  async markBad(bad: BadVersion): Promise<void> {
    await this.options.store.putDoc(
      COLLECTIONS.badVersions,
      badKey(bad.service, bad.environment, bad.version),
      bad,
      0,
    );
  }

  /** Clears the bad marks of a service and environment; returns the versions cleared. */
  private async clearBad(service: string, environment: string): Promise<string[]> {
    const prefix = `${freezeKey(service, environment)}/`;
    const docs = (await this.options.store.listDocs<BadVersion>(COLLECTIONS.badVersions)).filter((doc) =>
      doc.key.startsWith(prefix),
    );
    await Promise.all(docs.map((doc) => this.options.store.deleteDoc(COLLECTIONS.badVersions, doc.key)));
    return docs.map((doc) => doc.value.version);
  }

  /** Every current freeze: manual ones and those held by active rollbacks, by service and environment. */
  async list(): Promise<FreezeEntry[]> {
    const { store } = this.options;
    const [docs, active] = await Promise.all([
      store.listDocs<unknown>(COLLECTIONS.freezes),
      store.listRollbacks({ activeOnly: true }),
    ]);
    const entries: FreezeEntry[] = [];
    for (const doc of docs) {
      const freeze = parseFreeze(doc.value);
      if (freeze === null) continue;
      entries.push({
        service: freeze.service,
        environment: freeze.environment,
        kind: 'manual',
        reason: freeze.reason,
        by: freeze.by,
        since: freeze.at,
      });
    }
    for (const rollback of active) {
      entries.push({
        service: rollback.service,
        environment: rollback.environment,
        kind: 'rollback',
        reason: `rollback ${rollback.id} is ${rollback.state}`,
        by: 'system',
        since: rollback.createdAt,
        rollbackId: rollback.id,
      });
    }
    return entries.sort(
      (a, b) =>
        a.service.localeCompare(b.service) || a.environment.localeCompare(b.environment) || a.since - b.since,
    );
  }

  private async manual(service: string, environment: string): Promise<ManualFreeze | null> {
    const doc = await this.options.store.getDoc<unknown>(
      COLLECTIONS.freezes,
      freezeKey(service, environment),
    );
    return doc === null ? null : parseFreeze(doc.value);
  }

  private async activeRollback(service: string, environment: string) {
    const { store } = this.options;
    const id = await store.activeRollbackId(service, environment);
    const rollback = id === null ? null : await store.getRollback(id);
    // The lock may name a rollback that just ended (it is released after the final write).
    return rollback && !rollback.final ? rollback : null;
  }

  /** The plan, the environment, and whether `by` holds a role of the plan's authority policy. */
  private async authorise(request: Omit<FreezeRequest, 'reason'>, verb: 'freeze' | 'lift'): Promise<Target> {
    const catalog = this.options.catalog();
    if (request.service === ALL) return this.authoriseEverything(request, verb);
    const found = findPlan(catalog.plans, request.service);
    if (!found.ok) return found;
    const plan = found.plan;
    const resolved = environmentOf(plan, request.environment);
    if (!resolved.ok) return resolved;
    const policy = catalog.policies.get(plan.authority);
    if (!policy) {
      return refuse(
        'unknown_policy',
        `authority policy "${plan.authority}" is not loaded; run \`rollback-bot validate\`.`,
      );
    }
    const held = await rolesNow(this.options.rolesOf, request.by, policy);
    if (!held.ok) return held;
    if (held.roles.length === 0) {
      return refuse(
        'not_allowed',
        `only people with a role in the "${policy.name}" authority policy (${policy.roles.map((r) => r.name).join(', ')}) may ${verb === 'freeze' ? 'freeze' : 'lift the freeze of'} ${plan.service} deploys; you hold none of them.`,
      );
    }
    return { ok: true, service: plan.service, environment: resolved.environment };
  }

  /** Every service: anyone holding a role in any loaded authority policy may freeze them all. */
  private async authoriseEverything(
    request: Omit<FreezeRequest, 'reason'>,
    verb: 'freeze' | 'lift',
  ): Promise<Target> {
    const catalog = this.options.catalog();
    const policies = [...catalog.policies.values()];
    const environment = request.environment ?? ALL;
    // A typo (`--env prod`) would freeze nothing CI asks about. Lifting stays open, for old freezes.
    const covered = new Set([...catalog.plans.values()].flatMap((plan) => plan.environments));
    if (verb === 'freeze' && environment !== ALL && !covered.has(environment)) {
      const known = [...covered].sort();
      return refuse(
        'unknown_environment',
        `no plan covers the environment "${environment}"${didYouMean(environment, known)}; plans cover ${known.join(', ') || 'none (check ROLLBACK_CONFIG)'}.`,
      );
    }
    let unavailable: Refusal<'role_unavailable'> | undefined;
    for (const policy of policies) {
      const held = await rolesNow(this.options.rolesOf, request.by, policy);
      if (held.ok && held.roles.length > 0) return { ok: true, service: ALL, environment };
      if (!held.ok) unavailable ??= held;
    }
    // A role in a policy whose groups could not be read may be the one: refuse as unknown, not as none.
    if (unavailable) return unavailable;
    return refuse(
      'not_allowed',
      `only people with a role in an authority policy (${policies.map((p) => p.name).join(', ') || 'none loaded'}) may ${verb === 'freeze' ? 'freeze' : 'lift the freeze of'} every service; you hold none.`,
    );
  }
}

function describeTarget(target: { service: string; environment: string }): string {
  const service = target.service === ALL ? 'every service' : target.service;
  return target.environment === ALL
    ? `${service} in every environment`
    : `${service} in ${target.environment}`;
}
