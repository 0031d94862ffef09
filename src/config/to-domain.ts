/** Parsed manifests -> the domain types the machine and the authority matrix work on. */
import type { CommunicationsPolicy, EventTemplates } from '../domain/communications.js';
import {
  STABILIZE_DEFAULTS,
  type AuthorityPolicy,
  type OnFailure,
  type RollbackPlan,
  type StrategySpec,
} from '../domain/plan.js';
import type {
  AuthorityPolicyManifest,
  CommunicationsManifest,
  RollbackPlanManifest,
  StepManifest,
} from './manifest-schema.js';

/** Retries of `onFailure: retry` when `retries` is not given. */
export const DEFAULT_RETRIES = 2;

export function toRollbackPlan({ metadata, spec }: RollbackPlanManifest): RollbackPlan {
  const strategies: Record<string, StrategySpec> = {};
  for (const [name, strategy] of Object.entries(spec.strategies)) {
    strategies[name] = {
      name,
      steps: strategy.steps.map((step) => ({
        ...(step.id === undefined ? {} : { id: step.id }),
        name: step.name,
        uses: step.uses,
        with: step.with,
        onFailure: toOnFailure(step),
        database: step.database,
        ...(step.when === undefined ? {} : { when: step.when }),
      })),
      validate: strategy.validate.map((check) => ({ name: check.name, uses: check.uses, with: check.with })),
      ...(strategy.watch.length === 0
        ? {}
        : {
            watch: {
              everyMs: strategy.watchEvery,
              checks: strategy.watch.map((check) => ({
                name: check.name,
                uses: check.uses,
                with: check.with,
              })),
            },
          }),
      // Left out when there are none, as in rollbacks declared before steps after resolution existed.
      ...(strategy.after.length === 0
        ? {}
        : {
            after: strategy.after.map((step) => ({
              ...(step.id === undefined ? {} : { id: step.id }),
              name: step.name,
              uses: step.uses,
              with: step.with,
              delayMs: step.delay,
            })),
          }),
      ...stabilization(strategy.stabilize),
    };
  }
  return {
    name: metadata.name,
    service: spec.service,
    channel: spec.channel,
    environments: spec.environments,
    criticality: spec.criticality,
    ...(spec.rto === undefined ? {} : { rtoMs: spec.rto }),
    ...(spec.rpo === undefined ? {} : { rpoMs: spec.rpo }),
    ...(spec.owner === undefined ? {} : { owner: spec.owner }),
    ...(spec.contacts.length === 0 ? {} : { contacts: spec.contacts }),
    ...(spec.links === undefined ? {} : { links: spec.links }),
    authority: spec.authority,
    defaultStrategy: spec.defaultStrategy,
    strategies,
    triggers: spec.triggers.map((trigger) => ({
      name: trigger.name,
      match: trigger.match,
      action: trigger.action,
      ...(trigger.strategy === undefined ? {} : { strategy: trigger.strategy }),
      delayMs: trigger.delay ?? 0,
    })),
    limitations: spec.limitations,
    ...(spec.communications === undefined ? {} : { communications: spec.communications }),
  };
}

function stabilization(
  stabilize: RollbackPlanManifest['spec']['strategies'][string]['stabilize'],
): Pick<StrategySpec, 'stabilizeMs' | 'stabilizeEveryMs' | 'stabilizeFailureLimit'> {
  if (typeof stabilize === 'number')
    return {
      stabilizeMs: stabilize,
      stabilizeEveryMs: STABILIZE_DEFAULTS.everyMs,
      stabilizeFailureLimit: STABILIZE_DEFAULTS.failureLimit,
    };
  return {
    stabilizeMs: stabilize.for,
    stabilizeEveryMs: stabilize.interval,
    stabilizeFailureLimit: stabilize.failureLimit,
  };
}

function toOnFailure(step: StepManifest): OnFailure {
  return step.onFailure === 'retry'
    ? { kind: 'retry', times: step.retries ?? DEFAULT_RETRIES }
    : { kind: step.onFailure };
}

export function toAuthorityPolicy({ metadata, spec }: AuthorityPolicyManifest): AuthorityPolicy {
  const { default: fallback, ...byEnvironment } =
    typeof spec.approvalsRequired === 'number' ? { default: spec.approvalsRequired } : spec.approvalsRequired;
  return {
    name: metadata.name,
    roles: spec.roles.map((role) => ({
      name: role.name,
      members: {
        ...(role.members.usergroup === undefined ? {} : { usergroup: role.members.usergroup }),
        users: role.members.users,
      },
    })),
    tiers: spec.tiers
      .map((tier) => ({
        afterMs: tier.after,
        approver: tier.approver,
        ...(tier.notify === undefined ? {} : { notify: tier.notify }),
      }))
      .sort((a, b) => a.afterMs - b.afterMs),
    selfApproval: spec.selfApproval,
    approvalsRequired: { default: fallback ?? 1, byEnvironment },
    reminderEveryMs: spec.reminderEvery,
    expireAfterMs: spec.expireAfter,
  };
}

export function toCommunicationsPolicy({ metadata, spec }: CommunicationsManifest): CommunicationsPolicy {
  const templates: Record<string, EventTemplates> = {};
  for (const [event, template] of Object.entries(spec.templates)) {
    templates[event] =
      typeof template === 'string' ? { slack: template, sns: template, statuspage: template } : template;
  }
  return { name: metadata.name, targets: spec.targets, templates, updateEveryMs: spec.updateEvery };
}
