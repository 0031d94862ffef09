/**
 * Binds the pure rollback machine to the engine: timers the machine schedules become durable timer
 * records written in the same commit as the snapshot; every other effect goes to the outbox.
 */
import {
  applyEvent,
  isFinal,
  start,
  type PersistedRollback,
  type Transitioned,
} from '../domain/rollback-machine.js';
import type { RollbackInput } from '../domain/rollback-types.js';
import type { Decision, EffectIntent, RollbackDecider, TimerIntent, Transition } from './decider.js';

function toTransition(result: Transitioned): Transition {
  const effects: EffectIntent[] = [];
  const timers: TimerIntent[] = [];
  for (const effect of result.effects) {
    if (effect.kind === 'scheduleTimer') {
      timers.push({ timer: effect.timer, seq: effect.seq, dueAt: effect.dueAt });
    } else {
      effects.push(effect);
    }
  }
  return {
    snapshot: result.persisted,
    state: result.state,
    final: isFinal(result.snapshot),
    effects,
    timers,
  };
}

export const rollbackDecider: RollbackDecider<RollbackInput> = {
  start: (input) => toTransition(start(input)),
  decide(snapshot, event): Decision {
    // The store hands back exactly what `toTransition` stored: a persisted rollback snapshot.
    const result = applyEvent(snapshot as PersistedRollback, event);
    return result.ok ? { ok: true, ...toTransition(result) } : result;
  },
};
