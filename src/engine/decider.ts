/**
 * What the engine needs from the rollback machine: a pure function from (persisted snapshot, event)
 * to the next snapshot and its effects. `rollback-decider.ts` adapts the xstate machine to it; the
 * engine itself never restores a live actor (xstate would restart invocations on restore).
 */

/** Every event carries the time it happened and who caused it (a user id, `policy` or `system`). */
export interface EngineEvent {
  type: string;
  at: number;
  by: string;
  [field: string]: unknown;
}

/** A side effect to carry out after the transition is stored (run a step, post a message ...). */
export interface EffectIntent {
  kind: string;
  [field: string]: unknown;
}

export interface TimerIntent {
  timer: string;
  seq: number;
  dueAt: number;
}

export interface Transition {
  /** JSON-serialisable persisted snapshot. */
  snapshot: unknown;
  /** Top-level state name. */
  state: string;
  final: boolean;
  effects: EffectIntent[];
  timers: TimerIntent[];
}

/** The next transition, or a refusal in the one refusal shape (`ok: false` and a message for a person). */
export type Decision = ({ ok: true } & Transition) | { ok: false; message: string };

export interface RollbackDecider<Input> {
  start(input: Input): Transition;
  decide(snapshot: unknown, event: EngineEvent): Decision;
}
