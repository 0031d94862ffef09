/**
 * The rollback machine as the engine uses it: pure functions over snapshots. `start` declares a
 * rollback, `applyEvent` computes the next snapshot and the effects to carry out, and never throws
 * for an event the rollback cannot take: it refuses it with a code and a message (authority,
 * stale, or not in this state). Nothing here runs an effect, reads a clock or does I/O.
 */
import {
  getNextTransitions,
  initialTransition,
  isMachineSnapshot,
  transition,
  type SnapshotFrom,
  type StateValue,
} from 'xstate';
import { effectsOf } from './rollback-effects.js';
import { EVENT_TYPES, parseRollbackEvent, type RollbackEventType } from './rollback-events.js';
import { refusalFor, refuseTimer, stepLabel, type Refusal, type RefusalCode } from './rollback-rules.js';
import { currentAfterStep } from './rollback-after.js';
import { rollbackMachine } from './rollback-statechart.js';
import {
  FINAL_STATES,
  STATE_NAMES,
  type Effect,
  type RollbackContext,
  type RollbackInput,
  type StateName,
} from './rollback-types.js';

export { rollbackMachine };
export type RollbackMachine = typeof rollbackMachine;
export type RollbackSnapshot = SnapshotFrom<RollbackMachine>;

/** The JSON the engine stores: `rollbackMachine.getPersistedSnapshot(snapshot)`. */
export interface PersistedRollback {
  status: 'active' | 'done' | 'error' | 'stopped';
  value: StateValue;
  context: RollbackContext;
  historyValue?: unknown;
  children?: unknown;
}

export type AnyRollbackSnapshot = RollbackSnapshot | PersistedRollback;

export interface Transitioned {
  snapshot: RollbackSnapshot;
  /** Store this, together with `effects`, in one atomic write; then carry the effects out. */
  persisted: PersistedRollback;
  effects: Effect[];
  state: StateName;
}

export type Applied = ({ ok: true } & Transitioned) | { ok: false; code: RefusalCode; message: string };

export function persist(snapshot: RollbackSnapshot): PersistedRollback {
  return rollbackMachine.getPersistedSnapshot(snapshot) as unknown as PersistedRollback;
}

/**
 * A live snapshot from stored JSON (passing raw JSON to `transition()` would throw). A rollback
 * resolved before steps after resolution existed stored `resolved` as a leaf: it has none left, so
 * it is `resolved.done` (xstate would otherwise pick the initial child, `waiting`).
 */
export function restore(persisted: PersistedRollback): RollbackSnapshot {
  return rollbackMachine.resolveState({
    value: persisted.value === 'resolved' ? { resolved: 'done' } : persisted.value,
    context: persisted.context,
    status: persisted.status,
  });
}

function live(snapshot: AnyRollbackSnapshot): RollbackSnapshot {
  return isMachineSnapshot(snapshot) ? (snapshot as RollbackSnapshot) : restore(snapshot);
}

/** Declares a rollback: the initial snapshot and its effects (announcement, timers). */
export function start(input: RollbackInput): Transitioned {
  const [snapshot, actions] = initialTransition(rollbackMachine, input);
  return { snapshot, persisted: persist(snapshot), effects: effectsOf(actions), state: stateName(snapshot) };
}

function valueOf(snapshot: AnyRollbackSnapshot): StateValue {
  return snapshot.value;
}

/** The top-level state (DESIGN section 9), e.g. `executing` for `{ executing: 'running' }`. */
export function stateName(snapshot: AnyRollbackSnapshot): StateName {
  const value = valueOf(snapshot);
  const name = typeof value === 'string' ? value : Object.keys(value)[0];
  const known = STATE_NAMES.find((state) => state === name);
  if (known === undefined) throw new Error(`rollback snapshot in unknown state ${JSON.stringify(value)}`);
  return known;
}

/** The full state path, e.g. `executing.running` or `declared`. */
export function statePath(snapshot: AnyRollbackSnapshot): string {
  const value = valueOf(snapshot);
  if (typeof value === 'string') return value;
  const [parent, child] = Object.entries(value)[0] ?? [];
  return typeof child === 'string' ? `${String(parent)}.${child}` : String(parent);
}

/**
 * Ended, as everyone outside sees it (the engine's `final`: the active lock goes, the API and the
 * card say so). A resolved rollback may still run its steps after resolution: see `hasEnded`.
 */
export function isFinal(snapshot: AnyRollbackSnapshot): boolean {
  return (FINAL_STATES as readonly string[]).includes(stateName(snapshot));
}

/**
 * Takes no event any more: final, with no step after resolution left to drive. (xstate's own
 * `status` says `done` only for a final state at the top; `resolved` has children, so it stays
 * `active` there.)
 */
export function hasEnded(snapshot: AnyRollbackSnapshot): boolean {
  if (snapshot.status !== 'active') return true;
  return isFinal(snapshot) && eventsAccepted(snapshot).length === 0;
}

/** Event types the current state takes (guards aside): what a card may offer as buttons. */
export function eventsAccepted(snapshot: AnyRollbackSnapshot): RollbackEventType[] {
  const types = new Set(getNextTransitions(live(snapshot)).map((t): string => String(t.eventType)));
  return EVENT_TYPES.filter((type) => types.has(type));
}

/** The state in words, for refusals: `executing (step 1 ("Switch traffic") is running)`. */
export function describeState(snapshot: AnyRollbackSnapshot): string {
  const ctx = snapshot.context;
  const step = stepLabel(ctx, ctx.currentStep);
  switch (statePath(snapshot)) {
    case 'executing.queued':
      return `executing (waiting for ${step} to start)`;
    case 'executing.running':
      return `executing (${step} is running)`;
    case 'executing.awaitingDecision':
      return `executing (waiting for a decision on ${step})`;
    case 'executing.held':
      return `executing (held after ${step}: a watched metric breached; waiting for continue or abort)`;
    case 'validating.checking':
      return 'validating (checks are running)';
    case 'validating.awaitingDecision':
      return 'validating (waiting for a decision on a failed check)';
    case 'validating.stabilizing':
      return 'validating (stabilizing)';
    case 'resolved.waiting':
    case 'resolved.queued':
    case 'resolved.running': {
      const index = currentAfterStep(ctx);
      if (index === -1) return 'resolved';
      const name = `"${ctx.afterSteps?.[index]?.name ?? index}"`;
      return statePath(snapshot) === 'resolved.running'
        ? `resolved (step after resolution ${name} is running)`
        : `resolved (step after resolution ${name} is next)`;
    }
    default:
      return stateName(snapshot);
  }
}

const RUNNING_STATES: ReadonlySet<StateName> = new Set(['authorized', 'executing', 'validating']);

const refused = (refusal: Refusal): Applied => ({ ok: false, ...refusal });

/**
 * Applies one event. Accepted: `{ ok: true }` with the next snapshot, its persisted form and the
 * effects. Refused (a malformed event, one this state does not take, one the authority matrix
 * forbids, or a stale step/check/timer event): `{ ok: false, code, message }` and nothing changes.
 */
export function applyEvent(current: AnyRollbackSnapshot, rawEvent: unknown): Applied {
  const parsed = parseRollbackEvent(rawEvent);
  if (!parsed.ok) return refused({ code: 'malformed', message: parsed.reason });
  const event = parsed.event;
  const snapshot = live(current);
  // A resolved rollback with steps after resolution left takes only the events that drive them.
  if (hasEnded(snapshot) || (isFinal(snapshot) && !eventsAccepted(snapshot).includes(event.type))) {
    return refused({
      code: event.type === 'TIMER' ? 'stale' : 'not_accepted',
      message: `${event.type} is not accepted: the rollback has ended (${stateName(snapshot)})`,
    });
  }
  if (!snapshot.can(event)) {
    if (event.type === 'TIMER') {
      return refused(
        refuseTimer(snapshot.context, event) ?? {
          code: 'stale',
          message: `stale event: timer "${event.timer}" is not due while the rollback is ${describeState(snapshot)}`,
        },
      );
    }
    const notAccepted: Refusal = {
      code: 'not_accepted',
      message: `${event.type} is not accepted while the rollback is ${describeState(snapshot)}`,
    };
    const path = statePath(snapshot);
    const rule = refusalFor(snapshot.context, path, event);
    if (eventsAccepted(snapshot).includes(event.type)) return refused(rule ?? notAccepted);
    // A late or repeated report from a worker is stale, not out of place: say so.
    const reporting = /^(STEP|CHECK)_/.test(event.type) && RUNNING_STATES.has(stateName(snapshot));
    return refused(reporting && rule?.code === 'stale' ? rule : notAccepted);
  }
  const [next, actions] = transition(rollbackMachine, snapshot, event);
  return {
    ok: true,
    snapshot: next,
    persisted: persist(next),
    effects: effectsOf(actions),
    state: stateName(next),
  };
}
