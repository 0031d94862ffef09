/**
 * Fixtures for the pure domain: the standard authority policy of `shared/contract/example-config.yaml`
 * (on-call-engineer < team-lead < engineering-manager < vp-engineering < cto; tiers at 0/15/30/60
 * minutes), a two-step strategy with an automatic and a manual check, and plain-number clock helpers.
 */
import type {
  AfterStepSpec,
  AuthorityPolicy,
  OnFailure,
  StepSpec,
  StrategySpec,
} from '../../src/domain/plan.js';
import type { RollbackInput } from '../../src/domain/rollback-types.js';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;

/** Incident start, 2026-11-23T06:00:00Z; every test clock counts from here. */
export const T0 = Date.UTC(2026, 10, 23, 6, 0, 0);
export const at = (ms: number): number => T0 + ms;

export const USERS = {
  declarer: 'U0DECL',
  oncall: 'U0ONCALL1',
  oncall2: 'U0ONCALL2',
  lead: 'U0LEAD1',
  manager: 'U0EM1',
  vp: 'U0VP1',
  cto: 'U0CTO1',
  outsider: 'U0NOBODY',
} as const;

export const ROLES = {
  oncall: ['on-call-engineer'],
  lead: ['team-lead'],
  manager: ['engineering-manager'],
  vp: ['vp-engineering'],
  cto: ['cto'],
  none: [] as string[],
};

export function standardPolicy(overrides: Partial<AuthorityPolicy> = {}): AuthorityPolicy {
  return {
    name: 'default',
    roles: [
      { name: 'on-call-engineer', members: { usergroup: 'S0ONCALL', users: [] } },
      { name: 'team-lead', members: { users: [USERS.lead] } },
      { name: 'engineering-manager', members: { users: [USERS.manager] } },
      { name: 'vp-engineering', members: { users: [USERS.vp] } },
      { name: 'cto', members: { users: [USERS.cto] } },
    ],
    tiers: [
      { afterMs: 0, approver: 'on-call-engineer', notify: 'team-lead' },
      { afterMs: 15 * MINUTE, approver: 'team-lead', notify: 'engineering-manager' },
      { afterMs: 30 * MINUTE, approver: 'engineering-manager', notify: 'vp-engineering' },
      { afterMs: 60 * MINUTE, approver: 'vp-engineering', notify: 'cto' },
    ],
    selfApproval: true,
    approvalsRequired: { default: 1, byEnvironment: {} },
    reminderEveryMs: 5 * MINUTE,
    expireAfterMs: 2 * 60 * MINUTE,
    ...overrides,
  };
}

/** Production needs two approvers; self-approval forbidden. */
export function strictPolicy(): AuthorityPolicy {
  return standardPolicy({
    selfApproval: false,
    approvalsRequired: { default: 1, byEnvironment: { production: 2 } },
  });
}

export function step(name: string, onFailure: OnFailure = { kind: 'ask' }, uses = 'http'): StepSpec {
  return { name, uses, with: {}, onFailure, database: false };
}

export function afterStep(name: string, delayMs: number, uses = 'command'): AfterStepSpec {
  return { name, uses, with: {}, delayMs };
}

/** The standard strategy plus seed 004's clean-up: scale blue down 5 minutes after, then prune. */
export function blueGreenWithAfter(overrides: Partial<StrategySpec> = {}): StrategySpec {
  return standardStrategy({
    after: [afterStep('Scale down blue', 5 * MINUTE), afterStep('Prune blue images', 10 * MINUTE, 'http')],
    ...overrides,
  });
}

export function standardStrategy(overrides: Partial<StrategySpec> = {}): StrategySpec {
  return {
    name: 'blue-green',
    steps: [
      step('Check the standby environment', { kind: 'ask' }, 'healthcheck'),
      step('Switch traffic to the standby'),
    ],
    validate: [
      { name: 'Health endpoint', uses: 'healthcheck', with: {} },
      { name: 'Smoke-test the checkout journey', uses: 'manual', with: {} },
    ],
    stabilizeMs: 5 * MINUTE,
    ...overrides,
  };
}

export function rollbackInput(overrides: Partial<RollbackInput> = {}): RollbackInput {
  return {
    id: 'rb-1',
    service: 'checkout',
    environment: 'production',
    strategy: standardStrategy(),
    policy: standardPolicy(),
    fromVersion: 'v1.5.0',
    toVersion: 'v1.4.1',
    reason: '5xx spike',
    declaredBy: USERS.declarer,
    at: at(0),
    incidentStartedAt: T0,
    trigger: { kind: 'manual' },
    drill: false,
    requiresHuman: false,
    ...overrides,
  };
}
