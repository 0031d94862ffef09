/**
 * `RollbackView` fixtures for the Slack renderers, built by hand as plain objects of the interface
 * (no machine, no store): one per state the card must draw. Times count from the domain fixtures'
 * `T0` (2026-11-23T06:00:00Z), so goldens are stable.
 */
import type { RollbackView } from '../../src/app/rollback-view.js';
import { MINUTE, SECOND, T0, USERS } from './domain-fixtures.js';

export const iso = (ms: number): string => new Date(T0 + ms).toISOString();

export const LIMITATIONS = [
  'Sessions created on v1.5.0 are lost: users on them must sign in again.',
  'The `user_prefs` migration is not reverted; v1.4.1 ignores the new column.',
];

type Step = RollbackView['steps'][number];
type Check = RollbackView['checks'][number];

const step = (name: string, uses: string, extra: Partial<Step> = {}): Step => ({
  name,
  uses,
  status: 'pending',
  attempts: 0,
  startedAt: null,
  endedAt: null,
  ...extra,
});

const done = (from: number, to: number): Partial<Step> => ({
  status: 'succeeded',
  attempts: 1,
  startedAt: iso(from),
  endedAt: iso(to),
});

export const STEPS: Step[] = [
  step('Freeze deployments', 'http'),
  step('Switch traffic to blue', 'command'),
  step('Scale down green', 'command'),
];

const check = (name: string, kind: 'auto' | 'manual', extra: Partial<Check> = {}): Check => ({
  name,
  kind,
  status: 'pending',
  at: null,
  ...extra,
});

export const CHECKS: Check[] = [
  check('Health endpoint', 'auto'),
  check('Smoke-test the sign-in page', 'manual'),
];

export function baseView(overrides: Partial<RollbackView> = {}): RollbackView {
  return {
    id: 'rb_01JDX4Q2',
    service: 'user-service',
    environment: 'production',
    state: 'declared',
    stateDetail: 'declared',
    strategy: 'blue-green',
    fromVersion: 'v1.5.0',
    toVersion: 'v1.4.1',
    reason: '5xx spike after the v1.5.0 deploy',
    declaredBy: USERS.declarer,
    declaredAt: iso(2 * MINUTE),
    incidentStartedAt: iso(0),
    drill: false,
    steps: STEPS,
    checks: CHECKS,
    watches: [],
    watchHold: null,
    stabilization: null,
    afterSteps: [],
    approvals: [],
    approver: null,
    outcome: null,
    timeline: [{ at: iso(2 * MINUTE), event: 'DECLARE', by: USERS.declarer, state: 'declared' }],
    version: 1,
    ...overrides,
  };
}

/** Declared in production, one of two approvals in, the on-call tier in force until minute 15. */
export const declaredView = (): RollbackView =>
  baseView({
    approvals: [{ user: USERS.oncall, role: 'on-call-engineer', at: iso(4 * MINUTE), tier: 0, minute: 4 }],
    approver: { role: 'on-call-engineer', notify: 'team-lead', until: iso(15 * MINUTE) },
    version: 2,
  });

export const pendingView = (): RollbackView =>
  baseView({
    state: 'pending',
    stateDetail: 'pending',
    declaredBy: 'policy',
    reason: 'Alert HighErrorRate fired',
  });

/** Step 2 failed twice; the plan asks a human: Retry / Skip / Abort. */
export const failedStepView = (): RollbackView =>
  baseView({
    state: 'executing',
    stateDetail: 'executing (waiting for a decision on step 2 ("Switch traffic to blue"))',
    approvals: [
      { user: USERS.oncall, role: 'on-call-engineer', at: iso(4 * MINUTE), tier: 0, minute: 4 },
      { user: USERS.oncall2, role: 'on-call-engineer', at: iso(5 * MINUTE), tier: 0, minute: 5 },
    ],
    steps: [
      step('Freeze deployments', 'http', done(5 * MINUTE, 5 * MINUTE + 2 * SECOND)),
      step('Switch traffic to blue', 'command', {
        status: 'failed',
        attempts: 2,
        startedAt: iso(6 * MINUTE),
        endedAt: iso(6 * MINUTE + 45 * SECOND),
        error: 'exit code 1: traffic-router: upstream "blue" has 0 healthy hosts',
      }),
      STEPS[2]!,
    ],
    version: 9,
  });

export const interruptedView = (): RollbackView =>
  baseView({
    state: 'executing',
    stateDetail: 'executing (waiting for a decision on step 2 ("Switch traffic to blue"))',
    approvals: [{ user: USERS.lead, role: 'team-lead', at: iso(16 * MINUTE), tier: 1, minute: 16 }],
    steps: [
      step('Freeze deployments', 'http', done(17 * MINUTE, 17 * MINUTE + SECOND)),
      step('Switch traffic to blue', 'command', {
        status: 'interrupted',
        attempts: 1,
        startedAt: iso(17 * MINUTE + 2 * SECOND),
      }),
      STEPS[2]!,
    ],
    version: 7,
  });

const allDone: Step[] = [
  step('Freeze deployments', 'http', done(5 * MINUTE, 5 * MINUTE + 2 * SECOND)),
  step('Switch traffic to blue', 'command', done(5 * MINUTE + 3 * SECOND, 6 * MINUTE + 10 * SECOND)),
  step('Scale down green', 'command', done(6 * MINUTE + 11 * SECOND, 6 * MINUTE + 40 * SECOND)),
];

export const validatingView = (): RollbackView =>
  baseView({
    state: 'validating',
    stateDetail: 'validating (checks are running)',
    approvals: [{ user: USERS.oncall, role: 'on-call-engineer', at: iso(4 * MINUTE), tier: 0, minute: 4 }],
    steps: allDone,
    checks: [
      check('Health endpoint', 'auto', {
        status: 'succeeded',
        at: iso(7 * MINUTE),
        detail: 'HTTP 200 in 84ms',
      }),
      check('Smoke-test the sign-in page', 'manual'),
    ],
    version: 14,
  });

/** Executing step 2 while a watched 5xx ratio breached: the next step waits for continue or abort. */
export const watchingView = (): RollbackView =>
  baseView({
    ...failedStepView(),
    state: 'executing',
    stateDetail: 'executing (step 2 ("Switch traffic") is running)',
    watches: [
      { name: '5xx ratio', status: 'breached', at: iso(6 * MINUTE), detail: '5xx ratio 7.4% > 5%' },
      { name: 'p95 latency', status: 'ok', at: iso(6 * MINUTE), detail: '0.41s' },
    ],
    watchHold: { watch: '5xx ratio', detail: '5xx ratio 7.4% > 5%', at: iso(6 * MINUTE) },
  });

/** Stabilising for 10 minutes since minute 8, checks every minute: two rounds in, one tolerated failure. */
export const stabilizingView = (): RollbackView =>
  baseView({
    ...validatingView(),
    stateDetail: 'validating (stabilizing)',
    checks: [
      check('Health endpoint', 'auto', {
        status: 'succeeded',
        at: iso(10 * MINUTE),
        detail: 'HTTP 200 in 91ms',
      }),
      check('Smoke-test the sign-in page', 'manual', { status: 'succeeded', at: iso(8 * MINUTE) }),
    ],
    stabilization: {
      startedAt: iso(8 * MINUTE),
      until: iso(18 * MINUTE),
      everyMs: MINUTE,
      failureLimit: 1,
      rounds: 2,
      failures: 1,
      last: [{ check: 'Health endpoint', status: 'succeeded', at: iso(10 * MINUTE) }],
      endedBy: null,
    },
    version: 17,
  });

export const resolvedView = (): RollbackView =>
  baseView({
    state: 'resolved',
    stateDetail: 'resolved',
    approvals: [{ user: USERS.oncall, role: 'on-call-engineer', at: iso(4 * MINUTE), tier: 0, minute: 4 }],
    steps: allDone,
    checks: [
      check('Health endpoint', 'auto', {
        status: 'succeeded',
        at: iso(7 * MINUTE),
        detail: 'HTTP 200 in 84ms',
      }),
      check('Smoke-test the sign-in page', 'manual', {
        status: 'succeeded',
        at: iso(9 * MINUTE),
        by: USERS.oncall,
      }),
    ],
    outcome: {
      code: 'resolved',
      reason: 'all checks passed and the service stayed healthy for 5m',
      by: 'system',
      at: iso(14 * MINUTE),
    },
    version: 20,
  });

export const abortedView = (): RollbackView => {
  const view = failedStepView();
  return {
    ...view,
    state: 'aborted',
    stateDetail: 'aborted',
    outcome: {
      code: 'aborted',
      reason: 'blue is unhealthy too; escalating to a hotfix',
      by: USERS.lead,
      at: iso(9 * MINUTE),
    },
    version: 11,
  };
};

export const drillView = (): RollbackView =>
  baseView({
    environment: 'staging',
    drill: true,
    state: 'executing',
    stateDetail: 'executing (step 1 ("Freeze deployments") is running)',
    declaredBy: USERS.oncall,
    steps: [
      step('Freeze deployments', 'http', { status: 'running', attempts: 1, startedAt: iso(3 * MINUTE) }),
      STEPS[1]!,
      STEPS[2]!,
    ],
    version: 4,
  });

/** Step 2's `when` was false, so it was skipped without running; step 4 waits on its own `when`. */
export const conditionSkippedView = (): RollbackView =>
  baseView({
    service: 'orders',
    state: 'executing',
    stateDetail: 'executing (step 2 ("Restart the orders workers") is running)',
    approvals: [{ user: USERS.oncall, role: 'on-call-engineer', at: iso(4 * MINUTE), tier: 0, minute: 4 }],
    steps: [
      step('Check whether the migration was applied', 'command', done(5 * MINUTE, 5 * MINUTE + 3 * SECOND)),
      step('Undo the last migration', 'command', {
        endedAt: iso(5 * MINUTE + 3 * SECOND),
        status: 'skipped',
        when: '{{ steps.migrate-check.output.applied }}',
        skippedBy: 'condition',
        skipReason: 'steps.migrate-check.output.applied was false',
      }),
      step('Restart the orders workers', 'command', {
        status: 'running',
        attempts: 1,
        startedAt: iso(5 * MINUTE + 4 * SECOND),
      }),
      step('Tell the data team', 'http', { when: '{{ !steps.migrate-check.output.applied }}' }),
    ],
    version: 8,
  });

type AfterStep = RollbackView['afterSteps'][number];

const after = (name: string, uses: string, delayMs: number, extra: Partial<AfterStep> = {}): AfterStep => ({
  name,
  uses,
  status: 'pending',
  delayMs,
  dueAt: iso(14 * MINUTE + delayMs),
  startedAt: null,
  endedAt: null,
  ...extra,
});

/** Resolved at minute 14 with two steps after resolution: the first is due at minute 19. */
export const afterPendingView = (): RollbackView => ({
  ...resolvedView(),
  stateDetail: 'resolved (step after resolution "Scale down green" is next)',
  afterSteps: [
    after('Scale down green', 'command', 5 * MINUTE),
    after('Delete the green target group', 'http', 10 * MINUTE),
  ],
  version: 21,
});

/** The same later: the first ran, the second failed, the third was skipped; still resolved. */
export const afterFailedView = (): RollbackView => ({
  ...resolvedView(),
  afterSteps: [
    after('Scale down green', 'command', 5 * MINUTE, {
      status: 'succeeded',
      startedAt: iso(19 * MINUTE),
      endedAt: iso(19 * MINUTE + 12 * SECOND),
    }),
    after('Delete the green target group', 'http', 10 * MINUTE, {
      status: 'failed',
      startedAt: iso(24 * MINUTE),
      endedAt: iso(24 * MINUTE + 2 * SECOND),
      error: 'HTTP 409: target group tg-green is in use by listener arn:aws:...:listener/app/checkout/1',
    }),
    after('Prune green images', 'command', 15 * MINUTE, {
      status: 'skipped',
      note: 'not run: "Delete the green target group" failed',
    }),
  ],
  version: 27,
});

/** The plan's RTO (15m from the declaration at minute 2), owner, contacts and links, as a rollback keeps them. */
export const withOwnership = (view: RollbackView): RollbackView => ({
  ...view,
  eta: new Date(Date.parse(view.declaredAt) + 15 * MINUTE).toISOString(),
  rtoMs: 15 * MINUTE,
  owner: 'team-identity',
  contacts: [
    { name: 'Incident commander: Ana', slack: USERS.lead, phone: '+33 6 12 34 56 78' },
    { name: 'Identity on-call', slack: 'S0ONCALL' },
    { name: 'AWS Support', phone: 'case via console, business plan' },
  ],
  links: {
    runbook: 'https://wiki.example.com/runbooks/user-service',
    dashboard: 'https://grafana.example.com/d/user-service',
    logs: 'CloudWatch log group /aws/ecs/user-service',
  },
});
