/**
 * Property-based: random event sequences (aimed at what the rollback is doing about half of the
 * time, random otherwise) never throw, keep the state among the ten names, keep the steps, checks,
 * steps after resolution and deadlines consistent; ended rollbacks accept nothing, and a resolved
 * one only what drives its steps after resolution.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  type RollbackEvent,
  type RollbackEventType,
} from '../../../src/domain/rollback-events.js';
import {
  applyEvent,
  hasEnded,
  isFinal,
  start,
  stateName,
  statePath,
  type RollbackSnapshot,
} from '../../../src/domain/rollback-machine.js';
import type { OnFailure } from '../../../src/domain/plan.js';
import { currentAfterStep } from '../../../src/domain/rollback-after.js';
import {
  STATE_NAMES,
  TIMER_NAMES,
  type RollbackContext,
  type TimerName,
} from '../../../src/domain/rollback-types.js';
import {
  MINUTE,
  ROLES,
  USERS,
  afterStep,
  at,
  rollbackInput,
  standardPolicy,
  standardStrategy,
  step,
  strictPolicy,
} from '../../support/domain-fixtures.js';

const PEOPLE: [string, string[]][] = [
  [USERS.declarer, ROLES.oncall],
  [USERS.oncall, ROLES.oncall],
  [USERS.oncall2, ROLES.oncall],
  [USERS.lead, ROLES.lead],
  [USERS.cto, ROLES.cto],
  [USERS.outsider, ROLES.none],
];

const onFailureArb: fc.Arbitrary<OnFailure> = fc.oneof(
  fc.constant({ kind: 'ask' } as const),
  fc.constant({ kind: 'abort' } as const),
  fc.integer({ min: 0, max: 2 }).map((times) => ({ kind: 'retry', times }) as const),
);

const inputArb = fc
  .record({
    failures: fc.array(onFailureArb, { minLength: 0, maxLength: 3 }),
    checks: fc.constantFrom(0, 1, 2),
    stabilizeMs: fc.constantFrom(0, 5 * MINUTE),
    strict: fc.boolean(),
    auto: fc.boolean(),
    requiresHuman: fc.boolean(),
    declaredAfter: fc.integer({ min: 0, max: 70 * MINUTE }),
    updateEveryMs: fc.constantFrom(0, 2 * MINUTE),
    after: fc.array(fc.constantFrom(0, 5 * MINUTE), { minLength: 0, maxLength: 2 }),
  })
  .map((o) =>
    rollbackInput({
      strategy: standardStrategy({
        steps: o.failures.map((f, i) => step(`Step ${i}`, f)),
        validate: standardStrategy().validate.slice(0, o.checks),
        stabilizeMs: o.stabilizeMs,
        ...(o.after.length === 0
          ? {}
          : { after: o.after.map((delayMs, i) => afterStep(`After ${i}`, delayMs)) }),
      }),
      policy: o.strict ? strictPolicy() : standardPolicy(),
      trigger: o.auto ? { kind: 'auto', delayMs: 30_000 } : { kind: 'manual' },
      requiresHuman: o.requiresHuman,
      at: at(o.declaredAfter),
      updateEveryMs: o.updateEveryMs,
    }),
  );

/** Any event type, with the ones that move a rollback forward more often, so runs get deep. */
const typeArb: fc.Arbitrary<RollbackEventType> = fc.oneof(
  { arbitrary: fc.constantFrom(...EVENT_TYPES), weight: 2 },
  {
    arbitrary: fc.constantFrom<RollbackEventType>(
      'APPROVE',
      'STEP_STARTED',
      'STEP_SUCCEEDED',
      'STEP_FAILED',
      'CHECK_PASSED',
      'MANUAL_DONE',
      'TIMER',
      'AFTER_STEP_STARTED',
      'AFTER_STEP_SUCCEEDED',
      'AFTER_STEP_FAILED',
    ),
    weight: 3,
  },
);

const intentArb = fc.record({
  type: typeArb,
  person: fc.integer({ min: 0, max: PEOPLE.length - 1 }),
  dt: fc.integer({ min: 0, max: 20 * MINUTE }),
  aimed: fc.boolean(),
  index: fc.integer({ min: 0, max: 3 }),
  attempt: fc.integer({ min: 1, max: 4 }),
  timer: fc.constantFrom(...TIMER_NAMES),
  seq: fc.integer({ min: 0, max: 12 }),
});
type Intent = typeof intentArb extends fc.Arbitrary<infer T> ? T : never;

/** Turns an intent into an event, aimed at the current step/check/timer when `aimed`. */
function eventFor(intent: Intent, ctx: RollbackContext, now: number): RollbackEvent {
  const [by, roles] = PEOPLE[intent.person]!;
  const stepIndex = intent.aimed ? ctx.currentStep : intent.index;
  const attempt = intent.aimed ? Math.max(1, ctx.steps[stepIndex]?.attempts ?? 1) : intent.attempt;
  const check = intent.aimed
    ? ctx.checks.findIndex((c) => c.status === 'running' || c.status === 'pending')
    : intent.index;
  const checkIndex = Math.max(0, check);
  const afterIndex = intent.aimed ? Math.max(0, currentAfterStep(ctx)) : intent.index;
  const afterAttempt = intent.aimed
    ? Math.max(1, ctx.afterSteps?.[afterIndex]?.attempts ?? 1)
    : intent.attempt;
  const scheduled = Object.entries(ctx.deadlines)[0] as
    [TimerName, { dueAt: number; seq: number }] | undefined;
  const type: RollbackEventType = intent.type;
  switch (type) {
    case 'APPROVE':
    case 'START_NOW':
    case 'ACCEPT':
      return { type, at: now, by, roles };
    case 'REJECT':
    case 'CANCEL':
    case 'ABORT':
      return { type, at: now, by, roles, reason: 'property' };
    case 'STEP_STARTED':
      return { type, at: now, by: 'system', step: stepIndex, attempt };
    case 'STEP_SUCCEEDED':
      return { type, at: now, by: 'system', step: stepIndex, output: { n: intent.seq } };
    case 'STEP_FAILED':
      return { type, at: now, by: 'system', step: stepIndex, error: 'boom' };
    case 'STEP_INTERRUPTED':
      return { type, at: now, by: 'system', step: stepIndex };
    case 'RETRY_STEP':
      return intent.aimed ? { type, at: now, by, roles } : { type, at: now, by, roles, step: stepIndex };
    case 'SKIP_STEP':
      return { type, at: now, by, roles, step: stepIndex };
    case 'CHECK_PASSED':
      return { type, at: now, by: 'system', check: checkIndex };
    case 'CHECK_FAILED':
    case 'CHECK_INCONCLUSIVE':
      return { type, at: now, by: 'system', check: checkIndex, detail: 'bad' };
    case 'MANUAL_DONE':
      return { type, at: now, by, roles, check: checkIndex };
    case 'TIMER':
      return intent.aimed && scheduled
        ? {
            type,
            at: Math.max(now, scheduled[1].dueAt),
            by: 'system',
            timer: scheduled[0],
            seq: scheduled[1].seq,
          }
        : { type, at: now, by: 'system', timer: intent.timer, seq: intent.seq };
    case 'TARGETS_RESOLVED':
      return {
        type,
        at: now,
        by: 'system',
        resolution: { at: now, digest: `d${intent.seq}`, asked: null, steps: [] },
      };
    case 'CONTINUE':
      return { type, at: now, by, roles };
    case 'WATCH_SAMPLED':
      return {
        type,
        at: now,
        by: 'system',
        watch: intent.index,
        attempt: intent.aimed ? Math.max(1, ctx.watches?.[intent.index]?.attempts ?? 1) : intent.attempt,
        status: (['ok', 'breached', 'inconclusive'] as const)[intent.seq % 3]!,
      };
    case 'ALERTS_FIRING':
      // Aimed: no alert firing any more; otherwise one, new or already known.
      return {
        type,
        at: now,
        by: 'alerts',
        alerts: intent.aimed ? [] : [{ fingerprint: `fp-${intent.seq % 3}`, name: `Alert${intent.seq % 3}` }],
      };
    case 'AFTER_STEP_STARTED':
      return { type, at: now, by: 'system', step: afterIndex, attempt: afterAttempt };
    case 'AFTER_STEP_SUCCEEDED':
      return { type, at: now, by: 'system', step: afterIndex, output: { n: intent.seq } };
    case 'AFTER_STEP_FAILED':
      return { type, at: now, by: 'system', step: afterIndex, error: 'boom' };
    case 'AFTER_STEP_INTERRUPTED':
      return { type, at: now, by: 'system', step: afterIndex };
    case 'SUPERSEDED':
      return { type, at: now, by, rollbackId: intent.aimed ? 'rb-next' : ctx.id };
  }
}

const AFTER_LETTER: Record<string, string> = {
  pending: 'p',
  running: 'r',
  succeeded: 's',
  failed: 'f',
  interrupted: 'i',
  skipped: 'k',
};

/** Steps after resolution: planned only for `resolved`; in order; one at a time; none left at the end. */
function checkAfterSteps(snapshot: RollbackSnapshot): void {
  const ctx = snapshot.context;
  const path = statePath(snapshot);
  if (stateName(snapshot) !== 'resolved') {
    expect(ctx.afterSteps).toBeUndefined();
    return;
  }
  const planned = ctx.strategy.after ?? [];
  const steps = ctx.afterSteps ?? [];
  expect(steps.length).toBe(planned.length);
  steps.forEach((step, i) => {
    expect(step.dueAt).toBe(ctx.outcome!.at + planned[i]!.delayMs);
    expect(step.attempts).toBeLessThanOrEqual(1);
  });
  const letters = steps.map((step) => AFTER_LETTER[step.status]).join('');
  const current = steps[currentAfterStep(ctx)];
  if (path === 'resolved.done') {
    // All ran, or one failed / was stopped and the rest were skipped, or all were called off.
    expect(letters).toMatch(/^s*[fi]?k*$/);
    expect(ctx.deadlines).toEqual({});
  } else {
    expect(letters).toMatch(/^s*[pr]p*$/);
  }
  if (path === 'resolved.waiting') {
    expect(current).toMatchObject({ status: 'pending', attempts: 0 });
    expect(Object.keys(ctx.deadlines)).toEqual(['after']);
    expect(ctx.deadlines.after!.dueAt).toBeGreaterThanOrEqual(current!.dueAt);
  }
  if (path === 'resolved.queued') {
    expect(current).toMatchObject({ status: 'pending', attempts: 1 });
    expect(ctx.deadlines).toEqual({});
  }
  if (path === 'resolved.running') {
    expect(current).toMatchObject({ status: 'running', attempts: 1 });
    expect(ctx.deadlines).toEqual({});
  }
}

const DONE = new Set(['succeeded', 'skipped']);

const FOLLOW_UP: RollbackEventType[] = [
  'TIMER',
  'AFTER_STEP_STARTED',
  'AFTER_STEP_SUCCEEDED',
  'AFTER_STEP_FAILED',
  'AFTER_STEP_INTERRUPTED',
  'SUPERSEDED',
];

function checkInvariants(snapshot: RollbackSnapshot): void {
  const ctx = snapshot.context;
  const name = stateName(snapshot);
  const path = statePath(snapshot);
  expect(STATE_NAMES).toContain(name);
  // xstate says `done` only for a final leaf at the top; `resolved` has children (after-steps).
  if (snapshot.status === 'done') expect(isFinal(snapshot)).toBe(true);
  if (!isFinal(snapshot)) expect(snapshot.status).toBe('active');
  if (name === 'resolved') expect(path).toMatch(/^resolved\.(waiting|queued|running|done)$/);
  // Steps: before the current one done, after it untouched, at most one running.
  expect(ctx.currentStep).toBeGreaterThanOrEqual(0);
  expect(ctx.currentStep).toBeLessThanOrEqual(ctx.steps.length);
  ctx.steps.forEach((s, i) => {
    if (i < ctx.currentStep) expect(DONE.has(s.status), `step ${i} ${s.status}`).toBe(true);
    if (i > ctx.currentStep) expect(s).toMatchObject({ status: 'pending', attempts: 0 });
    if (s.status === 'running') expect(path).toBe('executing.running');
  });
  const current = ctx.steps[ctx.currentStep];
  if (path === 'executing.running') expect(current?.status).toBe('running');
  if (path === 'executing.queued' || name === 'authorized') {
    expect(current).toMatchObject({ status: 'pending' });
    expect(current!.attempts).toBeGreaterThan(0);
  }
  if (path === 'executing.awaitingDecision') expect(['failed', 'interrupted']).toContain(current?.status);
  if (name === 'validating' || name === 'resolved') {
    expect(ctx.currentStep).toBe(ctx.steps.length);
    expect(ctx.steps.every((s) => DONE.has(s.status))).toBe(true);
  }
  if (name === 'resolved') {
    expect(ctx.checks.every((c) => c.status === 'succeeded') || ctx.acceptance !== null).toBe(true);
  }
  checkAfterSteps(snapshot);
  if (hasEnded(snapshot)) expect(ctx.deadlines).toEqual({});
  if (isFinal(snapshot)) {
    expect(ctx.outcome).not.toBeNull();
    // Only the next step after resolution may be scheduled.
    expect(Object.keys(ctx.deadlines).filter((timer) => timer !== 'after')).toEqual([]);
    expect(ctx.steps.some((s) => s.status === 'running')).toBe(false);
    expect(ctx.checks.some((c) => c.status === 'running')).toBe(false);
  }
  // Authority: never two approvals by one person, never more than approved means authorised.
  expect(new Set(ctx.approvals.map((a) => a.user)).size).toBe(ctx.approvals.length);
  for (const deadline of Object.values(ctx.deadlines)) expect(deadline.seq).toBeLessThanOrEqual(ctx.timerSeq);
  if (['executing', 'validating', 'resolved'].includes(name)) expect(ctx.authorization).not.toBeNull();
}

describe('random event sequences', () => {
  it('never throw, keep the state valid and consistent, and ended rollbacks accept nothing', () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.array(intentArb, { minLength: 5, maxLength: 60, size: 'max' }),
        (input, intents) => {
          let snapshot = start(input).snapshot;
          let now = input.at;
          checkInvariants(snapshot);
          for (const intent of intents) {
            now += intent.dt;
            const event = eventFor(intent, snapshot.context, now);
            const wasEnded = hasEnded(snapshot);
            const wasFinal = isFinal(snapshot);
            const result = applyEvent(snapshot, event);
            if (wasEnded) expect(result.ok).toBe(false);
            // Once final, only what drives the steps after resolution moves anything.
            if (wasFinal && result.ok) expect(FOLLOW_UP).toContain(event.type);
            if (result.ok) {
              expect(result.state).toBe(stateName(result.snapshot));
              expect(JSON.parse(JSON.stringify(result.persisted))).toEqual(result.persisted);
              snapshot = result.snapshot;
              now = Math.max(now, event.at);
            } else {
              expect(result.message).not.toBe('');
            }
            checkInvariants(snapshot);
          }
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('reach every state and substate (the generator explores deep enough)', () => {
    const seen = new Set<string>();
    const paths: Record<string, number> = {};
    fc.assert(
      fc.property(
        inputArb,
        fc.array(
          intentArb.map((i) => ({ ...i, aimed: true })),
          { minLength: 10, maxLength: 40, size: 'max' },
        ),
        (input, intents) => {
          let snapshot = start(input).snapshot;
          let now = input.at;
          seen.add(stateName(snapshot));
          for (const intent of intents) {
            now += intent.dt % (3 * MINUTE);
            const result = applyEvent(snapshot, eventFor(intent, snapshot.context, now));
            if (result.ok) snapshot = result.snapshot;
            seen.add(stateName(snapshot));
            paths[statePath(snapshot)] = (paths[statePath(snapshot)] ?? 0) + 1;
          }
        },
      ),
      { numRuns: 400, seed: 42 },
    );
    expect([...seen].sort()).toEqual([...STATE_NAMES].sort());
    expect(Object.keys(paths).sort()).toEqual([
      'aborted',
      'authorized',
      'cancelled',
      'declared',
      'executing.awaitingDecision',
      'executing.queued',
      'executing.running',
      'failed',
      'pending',
      'rejected',
      'resolved.done',
      'resolved.queued',
      'resolved.running',
      'resolved.waiting',
      'validating.awaitingDecision',
      'validating.checking',
      'validating.stabilizing',
    ]);
  });
});
