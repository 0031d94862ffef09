/**
 * The only writer of rollback state. `dispatch` loads the persisted snapshot, computes the next one
 * with the pure decider, and stores snapshot + audit entry + effects + timers in ONE atomic commit
 * guarded by the version it read; a conflict (another replica won) re-reads and decides again.
 * Effects run later, from the outbox, so a crash between deciding and doing loses nothing.
 */
import type { Logger } from 'pino';
import type {
  ActiveLocks,
  AuditEntry,
  OutboxEffect,
  RollbackReader,
  StoredRollback,
  TimerRecord,
  Transitions,
} from '../store/store.js';
import type { EngineEvent, RollbackDecider, Transition } from './decider.js';
import { chainEntry, chainHead, chainStart } from '../lib/audit-chain.js';
import { KeyedQueue } from '../lib/keyed-queue.js';

export interface RollbackIdentity {
  id: string;
  service: string;
  environment: string;
}

export type DeclareResult =
  | { ok: true; rollback: StoredRollback }
  | { ok: false; code: 'active_rollback_exists'; activeId: string; message: string }
  | { ok: false; code: 'duplicate_id'; message: string };

/** Like DeclareResult, and like the application's refusals: `{ ok: false, code, message }`. */
export type DispatchResult =
  | { ok: true; rollback: StoredRollback }
  | { ok: false; code: 'refused'; message: string; rollback: StoredRollback }
  | { ok: false; code: 'not_found'; message: string };

export interface EngineOptions<Input> {
  store: Transitions & RollbackReader & ActiveLocks;
  decider: RollbackDecider<Input>;
  log: Logger;
  /** Re-reads after a version conflict before giving up; conflicts only come from other replicas. */
  maxConflictRetries?: number;
}

/**
 * What one commit stored, handed to listeners so that whoever shows or counts it (the card, the
 * metrics, the workers' wake-up) needs no read of its own.
 */
export interface Committed {
  rollback: StoredRollback;
  audit: AuditEntry[];
  effects: OutboxEffect[];
  timers: TimerRecord[];
}

type CommittedListener = (committed: Committed) => void;

export class Engine<Input> {
  private readonly queue = new KeyedQueue();
  private readonly listeners: CommittedListener[] = [];
  private readonly maxConflictRetries: number;

  constructor(private readonly options: EngineOptions<Input>) {
    this.maxConflictRetries = options.maxConflictRetries ?? 200;
  }

  /**
   * Called after every successful commit, in this process (the outbox worker wakes up at once, the
   * card is redrawn from it). A listener must not throw.
   */
  onCommitted(listener: CommittedListener): void {
    this.listeners.push(listener);
  }

  /**
   * Creates a rollback, refusing a second active one for the same service and environment.
   * The lock is taken before the commit; a lock left by a rollback that is final or never got
   * written (a crash between the two) is taken over.
   */
  async declare(identity: RollbackIdentity, input: Input, at: number, by: string): Promise<DeclareResult> {
    const { store } = this.options;
    const lock = await this.takeActiveLock(identity);
    if (!lock.ok) return lock;
    const transition = this.options.decider.start(input);
    const rollback: StoredRollback = {
      ...identity,
      version: 1,
      state: transition.state,
      final: transition.final,
      snapshot: transition.snapshot,
      createdAt: at,
      updatedAt: at,
    };
    const event: EngineEvent = { type: 'DECLARE', at, by };
    const written = await this.write(rollback, 0, event, transition, chainStart(identity.id));
    if (!written) {
      await store.releaseActiveLock(identity.service, identity.environment, identity.id);
      return { ok: false, code: 'duplicate_id', message: `a rollback with id ${identity.id} already exists` };
    }
    if (transition.final) await store.releaseActiveLock(identity.service, identity.environment, identity.id);
    return { ok: true, rollback };
  }

  /**
   * Applies one event. Events of one rollback are applied one at a time, in arrival order. `known`
   * is the record the caller has just read: it is decided on first, which saves a read; a commit
   * it is too old for fails on the version and is decided again on a fresh read, and so is a
   * refusal (a refusal must come from the stored state, not from a copy).
   */
  dispatch(rollbackId: string, event: EngineEvent, known?: StoredRollback): Promise<DispatchResult> {
    return this.queue.run(rollbackId, () => this.apply(rollbackId, event, known));
  }

  private async apply(
    rollbackId: string,
    event: EngineEvent,
    known: StoredRollback | undefined,
  ): Promise<DispatchResult> {
    const { store, decider, log } = this.options;
    for (let attempt = 0; attempt <= this.maxConflictRetries; attempt++) {
      const given = attempt === 0 ? known : undefined;
      const current = given ?? (await store.getRollback(rollbackId));
      if (!current) return { ok: false, code: 'not_found', message: `no rollback ${rollbackId}` };
      const decision = decider.decide(current.snapshot, event);
      if (!decision.ok && given) continue;
      if (!decision.ok) {
        log.info({ rollbackId, event: event.type, by: event.by, reason: decision.message }, 'event refused');
        return { ok: false, code: 'refused', message: decision.message, rollback: current };
      }
      const next: StoredRollback = {
        ...current,
        version: current.version + 1,
        state: decision.state,
        final: decision.final,
        snapshot: decision.snapshot,
        updatedAt: Math.max(current.updatedAt, event.at),
      };
      if (await this.write(next, current.version, event, decision, await this.auditHead(current))) {
        if (next.final && !current.final) {
          await store.releaseActiveLock(next.service, next.environment, next.id);
        }
        return { ok: true, rollback: next };
      }
      log.debug({ rollbackId, attempt }, 'version conflict, deciding again');
    }
    throw new Error(`rollback ${rollbackId}: gave up after ${this.maxConflictRetries} version conflicts`);
  }

  /**
   * The hash the next audit entry chains onto. A record committed before the chain existed (or by
   * an older replica during a rolling upgrade) has none: its audit is read once and hashed.
   */
  private async auditHead(current: StoredRollback): Promise<string> {
    if (current.auditHash !== undefined) return current.auditHash;
    const audit = await this.options.store.readAudit(current.id);
    return chainHead(
      current.id,
      audit.filter((entry) => entry.version <= current.version),
    );
  }

  private async write(
    rollback: StoredRollback,
    expectedVersion: number,
    event: EngineEvent,
    transition: Transition,
    prev: string,
  ): Promise<boolean> {
    const { type, at, by, ...detail } = event;
    const entry: AuditEntry = { version: rollback.version, at, event: type, by, state: transition.state };
    if (Object.keys(detail).length > 0) entry.detail = detail;
    const audit = chainEntry(entry, prev);
    // The record names its newest entry: the next one chains onto it, and a lost tail shows.
    rollback.auditHash = audit.hash;
    const effects: OutboxEffect[] = transition.effects.map(({ kind, ...payload }, index) => ({
      id: `${rollback.id}:${rollback.version}:${index}`,
      rollbackId: rollback.id,
      version: rollback.version,
      kind,
      payload,
      createdAt: at,
    }));
    const timers: TimerRecord[] = transition.timers.map((t) => ({ ...t, rollbackId: rollback.id }));
    const committed: Committed = { rollback, audit: [audit], effects, timers };
    const result = await this.options.store.commit({ ...committed, expectedVersion });
    if (!result.ok) return false;
    for (const listener of this.listeners) listener(committed);
    return true;
  }

  private async takeActiveLock(
    identity: RollbackIdentity,
  ): Promise<
    { ok: true } | { ok: false; code: 'active_rollback_exists'; activeId: string; message: string }
  > {
    const { store } = this.options;
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await store.acquireActiveLock(identity.service, identity.environment, identity.id);
      if (taken.ok) return taken;
      const holder = await store.getRollback(taken.holder);
      const stale = holder === null ? await this.lockIsOrphaned(taken.holder) : holder.final;
      if (!stale) {
        return {
          ok: false,
          code: 'active_rollback_exists',
          activeId: taken.holder,
          message: `${identity.service} in ${identity.environment} already has an active rollback: ${taken.holder} (${holder?.state ?? 'starting'}). Finish or cancel it first.`,
        };
      }
      if (await store.replaceActiveLock(identity.service, identity.environment, taken.holder, identity.id)) {
        return { ok: true };
      }
    }
    throw new Error(`could not take the active-rollback lock of ${identity.service}/${identity.environment}`);
  }

  /**
   * A lock whose rollback does not exist may belong to a declaration still between taking the lock
   * and committing; only treat it as orphaned once it is still missing a moment later.
   */
  private async lockIsOrphaned(holderId: string): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 250));
    return (await this.options.store.getRollback(holderId)) === null;
  }
}
