/**
 * How the machine expresses side effects without running them. A transition's actions work on a
 * `Draft` (the next context plus the effects it produced); the machine then assigns the context and
 * enqueues one custom `effect` action per effect. xstate's pure `transition()` returns those actions
 * unexecuted, with their params resolved, and `effectsOf` turns them into typed `Effect`s.
 */
import type {
  CheckState,
  Deadline,
  Effect,
  NotifyDetail,
  RollbackContext,
  StepState,
  TimerName,
} from './rollback-types.js';

/** The custom action that carries one effect out of `transition()`. */
export const EFFECT_ACTION = 'effect';

/** Removes keys from a copy, so the context never holds `undefined` (JSON would drop it). */
function omit<T extends object, K extends keyof T & string>(value: T, keys: readonly K[]): Omit<T, K> {
  const dropped: ReadonlySet<string> = new Set(keys);
  return Object.fromEntries(Object.entries(value).filter(([key]) => !dropped.has(key))) as Omit<T, K>;
}

export class Draft {
  private next: RollbackContext;
  readonly effects: Effect[] = [];

  constructor(
    context: RollbackContext,
    /** When the event happened. */
    readonly at: number,
    /** Who caused it: a user id, `policy` or `system`. */
    readonly by: string,
  ) {
    this.next = { ...context, lastEventAt: at };
  }

  /**
   * For an event of any shape, including xstate's own init event, which has no `at`/`by`: the
   * declaration then happened at the declaration time, by the declarer.
   */
  static of(context: RollbackContext, event: unknown): Draft {
    const fields = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
    const at = typeof fields.at === 'number' ? fields.at : context.lastEventAt;
    const by = typeof fields.by === 'string' ? fields.by : context.declaredBy;
    return new Draft(context, at, by);
  }

  get context(): RollbackContext {
    return this.next;
  }

  set(patch: Partial<RollbackContext>): void {
    this.next = { ...this.next, ...patch };
  }

  updateStep(index: number, update: (step: StepState) => StepState): void {
    this.set({ steps: this.next.steps.map((step, i) => (i === index ? update(step) : step)) });
  }

  updateCheck(index: number, update: (check: CheckState) => CheckState): void {
    this.set({ checks: this.next.checks.map((check, i) => (i === index ? update(check) : check)) });
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  notify(detail: NotifyDetail): void {
    this.emit({ kind: 'notify', at: this.at, by: this.by, ...detail });
  }

  /** Schedules `timer` with a fresh sequence number; a TIMER carrying an older one is stale. */
  schedule(timer: TimerName, dueAt: number): void {
    const seq = this.next.timerSeq + 1;
    const deadline: Deadline = { dueAt, seq };
    this.set({ timerSeq: seq, deadlines: { ...this.next.deadlines, [timer]: deadline } });
    this.emit({ kind: 'scheduleTimer', timer, dueAt, seq });
  }

  clearTimers(timers: readonly TimerName[]): void {
    this.set({ deadlines: omit(this.next.deadlines, timers) });
  }

  /** Asks the engine to run `index` (again): a new attempt, the step back to pending. */
  runStep(index: number): void {
    const attempt = this.next.steps[index]!.attempts + 1;
    this.updateStep(index, (step) => ({
      ...omit(step, ['startedAt', 'endedAt', 'error', 'output', 'skippedBy']),
      status: 'pending',
      attempts: attempt,
    }));
    this.set({ currentStep: index });
    this.emit({ kind: 'runStep', stepIndex: index, attempt });
  }

  runCheck(index: number): void {
    const attempt = this.next.checks[index]!.attempts + 1;
    this.updateCheck(index, (check) => ({
      ...omit(check, ['at', 'by', 'detail']),
      status: 'running',
      attempts: attempt,
    }));
    this.emit({ kind: 'runCheck', checkIndex: index, attempt });
  }
}

/** The shape of an action as `transition()` returns it (only `type` and `params` matter here). */
export interface ReturnedAction {
  type: string;
  params?: unknown;
}

/** The effects among the actions `transition()`/`initialTransition()` returned, in order. */
export function effectsOf(actions: readonly ReturnedAction[]): Effect[] {
  return actions.filter((action) => action.type === EFFECT_ACTION).map((action) => action.params as Effect);
}
