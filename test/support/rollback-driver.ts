/**
 * A small test driver for the rollback machine: holds the current snapshot, sends events through
 * `applyEvent` and fails loudly when an event the test expects to be accepted is refused (and the
 * other way round). Event builders take plain-number times.
 */
import { expect } from 'vitest';
import {
  applyEvent,
  start,
  stateName,
  statePath,
  type Applied,
  type RollbackSnapshot,
} from '../../src/domain/rollback-machine.js';
import type { RollbackEvent } from '../../src/domain/rollback-events.js';
import type { Effect, RollbackContext, RollbackInput, TimerName } from '../../src/domain/rollback-types.js';
import { ROLES, USERS, rollbackInput } from './domain-fixtures.js';

type Refused = Extract<Applied, { ok: false }>;

export const ev = {
  approve: (at: number, by: string = USERS.oncall, roles: string[] = ROLES.oncall): RollbackEvent => ({
    type: 'APPROVE',
    at,
    by,
    roles,
  }),
  reject: (at: number, by: string = USERS.oncall, roles: string[] = ROLES.oncall): RollbackEvent => ({
    type: 'REJECT',
    at,
    by,
    roles,
    reason: 'not the right fix',
  }),
  cancel: (at: number, by: string = USERS.oncall, roles: string[] = ROLES.oncall): RollbackEvent => ({
    type: 'CANCEL',
    at,
    by,
    roles,
  }),
  startNow: (at: number, by: string = USERS.oncall, roles: string[] = ROLES.oncall): RollbackEvent => ({
    type: 'START_NOW',
    at,
    by,
    roles,
  }),
  started: (at: number, step: number, attempt = 1): RollbackEvent => ({
    type: 'STEP_STARTED',
    at,
    by: 'system',
    step,
    attempt,
  }),
  succeeded: (at: number, step: number, output?: Record<string, unknown>): RollbackEvent => ({
    type: 'STEP_SUCCEEDED',
    at,
    by: 'system',
    step,
    ...(output ? { output } : {}),
  }),
  failed: (at: number, step: number, error = 'HTTP 502'): RollbackEvent => ({
    type: 'STEP_FAILED',
    at,
    by: 'system',
    step,
    error,
  }),
  interrupted: (at: number, step: number): RollbackEvent => ({
    type: 'STEP_INTERRUPTED',
    at,
    by: 'system',
    step,
  }),
  retry: (
    at: number,
    step?: number,
    by: string = USERS.oncall,
    roles: string[] = ROLES.oncall,
  ): RollbackEvent => ({
    type: 'RETRY_STEP',
    at,
    by,
    roles,
    ...(step === undefined ? {} : { step }),
  }),
  skip: (
    at: number,
    step: number,
    by: string = USERS.oncall,
    roles: string[] = ROLES.oncall,
  ): RollbackEvent => ({
    type: 'SKIP_STEP',
    at,
    by,
    roles,
    step,
  }),
  abort: (at: number, by: string = USERS.oncall, roles: string[] = ROLES.oncall): RollbackEvent => ({
    type: 'ABORT',
    at,
    by,
    roles,
    reason: 'making it worse',
  }),
  checkPassed: (at: number, check: number): RollbackEvent => ({
    type: 'CHECK_PASSED',
    at,
    by: 'system',
    check,
  }),
  checkFailed: (at: number, check: number, detail = 'p99 above baseline'): RollbackEvent => ({
    type: 'CHECK_FAILED',
    at,
    by: 'system',
    check,
    detail,
  }),
  checkInconclusive: (at: number, check: number, detail = 'query returned nothing'): RollbackEvent => ({
    type: 'CHECK_INCONCLUSIVE',
    at,
    by: 'system',
    check,
    detail,
  }),
  manualDone: (
    at: number,
    check: number,
    by: string = USERS.oncall,
    roles: string[] = ROLES.oncall,
  ): RollbackEvent => ({
    type: 'MANUAL_DONE',
    at,
    by,
    roles,
    check,
  }),
  accept: (at: number, by: string = USERS.oncall, roles: string[] = ROLES.oncall): RollbackEvent => ({
    type: 'ACCEPT',
    at,
    by,
    roles,
  }),
  timer: (at: number, timer: TimerName, seq: number): RollbackEvent => ({
    type: 'TIMER',
    at,
    by: 'system',
    timer,
    seq,
  }),
  afterStarted: (at: number, step: number, attempt = 1): RollbackEvent => ({
    type: 'AFTER_STEP_STARTED',
    at,
    by: 'system',
    step,
    attempt,
  }),
  afterSucceeded: (at: number, step: number, output?: Record<string, unknown>): RollbackEvent => ({
    type: 'AFTER_STEP_SUCCEEDED',
    at,
    by: 'system',
    step,
    ...(output ? { output } : {}),
  }),
  afterFailed: (at: number, step: number, error = 'exit status 1'): RollbackEvent => ({
    type: 'AFTER_STEP_FAILED',
    at,
    by: 'system',
    step,
    error,
  }),
  afterInterrupted: (at: number, step: number): RollbackEvent => ({
    type: 'AFTER_STEP_INTERRUPTED',
    at,
    by: 'system',
    step,
  }),
  superseded: (at: number, rollbackId = 'rb-2', by: string = USERS.declarer): RollbackEvent => ({
    type: 'SUPERSEDED',
    at,
    by,
    rollbackId,
  }),
};

export class RollbackDriver {
  snapshot: RollbackSnapshot;
  /** Effects of the last accepted event (or of the declaration). */
  effects: Effect[];

  constructor(input: RollbackInput = rollbackInput()) {
    const started = start(input);
    this.snapshot = started.snapshot;
    this.effects = started.effects;
  }

  get state(): string {
    return stateName(this.snapshot);
  }

  get path(): string {
    return statePath(this.snapshot);
  }

  get ctx(): RollbackContext {
    return this.snapshot.context;
  }

  /** Sends an event that must be accepted; returns its effects. */
  send(event: RollbackEvent): Effect[] {
    const result = applyEvent(this.snapshot, event);
    if (!result.ok) {
      expect.fail(`${event.type} was refused in ${this.path}: [${result.code}] ${result.message}`);
    }
    this.snapshot = result.snapshot;
    this.effects = result.effects;
    return result.effects;
  }

  /** Sends an event that must be refused; the snapshot stays as it was. */
  refuse(event: RollbackEvent): Refused {
    const before = this.snapshot;
    const result = applyEvent(this.snapshot, event);
    if (result.ok) expect.fail(`${event.type} was accepted in ${statePath(before)} -> ${result.state}`);
    return result;
  }

  /** Fires the currently scheduled timer of that name (at its due time unless `at` is given). */
  fire(timer: TimerName, at?: number): Effect[] {
    const deadline = this.ctx.deadlines[timer];
    if (!deadline) expect.fail(`no "${timer}" timer is scheduled in ${this.path}`);
    return this.send(ev.timer(at ?? deadline.dueAt, timer, deadline.seq));
  }

  /**
   * From a fresh declaration of the standard strategy to `resolved`: approved at `at`, the steps
   * succeed, the checks pass, the stabilisation window ends. Returns the resolution time.
   */
  resolve(at: number): number {
    this.approveAndRunSteps(at);
    const checked = at + 1 + this.ctx.steps.length * 2;
    this.ctx.checks.forEach((check, index) => {
      this.send(check.kind === 'manual' ? ev.manualDone(checked, index) : ev.checkPassed(checked, index));
    });
    if (this.ctx.deadlines.stabilize) this.fire('stabilize');
    expect(this.state).toBe('resolved');
    return this.ctx.outcome!.at;
  }

  /** Approves as on-call at `at` and runs step by step to validation, each step succeeding. */
  approveAndRunSteps(at: number): void {
    this.send(ev.approve(at));
    this.ctx.steps.forEach((_, index) => {
      this.send(ev.started(at + 1 + index * 2, index));
      this.send(ev.succeeded(at + 2 + index * 2, index));
    });
  }
}

export function kinds(effects: readonly Effect[]): string[] {
  return effects.map((e) => (e.kind === 'notify' ? `notify:${e.event}` : e.kind));
}

export function notices(effects: readonly Effect[]): Extract<Effect, { kind: 'notify' }>[] {
  return effects.filter((e): e is Extract<Effect, { kind: 'notify' }> => e.kind === 'notify');
}
