/**
 * Everything the bot keeps, behind one interface with two implementations: Redis (production, any
 * number of replicas) and memory (the demo and unit tests). Values are plain JSON: the store never
 * interprets a snapshot, it only guards its version.
 *
 * One rule makes "loses no data" possible: a transition is written by ONE atomic `commit` — the new
 * snapshot, its audit entries, the effects to carry out and the timers to set — guarded by the
 * version the writer read. Effects are carried out only after that write, and at least once.
 */

export interface StoredRollback {
  id: string;
  service: string;
  environment: string;
  /** 1 when created, +1 for every accepted transition: a gap or a repeat would mean a forked state. */
  version: number;
  /** Top-level state name (`declared`, `executing`, ...), kept beside the snapshot for listings. */
  state: string;
  /** Whether the state is final (resolved, rejected, cancelled, aborted, failed). */
  final: boolean;
  /** The machine's persisted snapshot, opaque to the store. */
  snapshot: unknown;
  createdAt: number;
  updatedAt: number;
  /**
   * The hash of the audit entry this version wrote (src/lib/audit-chain.ts): the next entry chains
   * onto it without reading the audit. Absent on a record written before the chain existed.
   */
  auditHash?: string;
}

export interface AuditEntry {
  /** Version of the rollback this entry produced. */
  version: number;
  at: number;
  /** Event type (`APPROVE`, `STEP_SUCCEEDED`, ...) or `DECLARE` for the creation. */
  event: string;
  /** Slack user id, `policy` or `system`. */
  by: string;
  /** Top-level state after the event. */
  state: string;
  detail?: Record<string, unknown>;
  /** The hash of the entry before (for the first: of the rollback id); absent before the chain. */
  prev?: string;
  /** sha256 over `prev` and this entry's other fields (src/lib/audit-chain.ts). */
  hash?: string;
}

export interface OutboxEffect {
  /** Unique and stable (`<rollbackId>:<version>:<index>`): handlers use it to make repeats harmless. */
  id: string;
  rollbackId: string;
  /** The rollback's version the effect was decided at: what a handler shows is at least this new. */
  version: number;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: number;
}

export interface TimerRecord {
  rollbackId: string;
  timer: string;
  /** Sequence number of the deadline in the rollback's context: a mismatch means a stale timer. */
  seq: number;
  dueAt: number;
}

export interface Commit {
  /** The record after the transition: `version` must be `expectedVersion + 1`. */
  rollback: StoredRollback;
  /** 0 to create a new rollback (fails if the id exists). */
  expectedVersion: number;
  audit: AuditEntry[];
  /** Effects of this rollback only (`effect.rollbackId === rollback.id`): they share its shard. */
  effects: OutboxEffect[];
  /**
   * Timers of this rollback only. A timer is identified by all four fields: setting the same one again
   * is a no-op, a new deadline takes a new `seq`.
   */
  timers: TimerRecord[];
}

export type CommitResult = { ok: true } | { ok: false; reason: 'version_conflict'; currentVersion: number };

/** An effect handed to one consumer; acknowledge it once carried out, or it is delivered again. */
export interface EffectDelivery {
  /** Opaque handle for `ackEffect`. */
  receipt: string;
  effect: OutboxEffect;
  /** How many times the effect has been delivered, this delivery included. */
  deliveries: number;
}

export interface RollbackFilter {
  service?: string;
  state?: string;
  /** Only rollbacks that are not final. */
  activeOnly?: boolean;
  limit?: number;
}

export interface Deployment {
  service: string;
  environment: string;
  version: string;
  commit?: string;
  by?: string;
  at: number;
}

/** A JSON document kept by key with an optimistic version (incidents, freezes, settings). */
export interface VersionedDoc<T> {
  version: number;
  value: T;
}

// Role interfaces: an adapter names the few capabilities it uses (a `RollbackReader`, `Docs`,
// `Dedup`), not the whole store, so its signature answers "what may it touch". `Store` is all of them.

/** Writes a rollback: only the engine commits transitions. */
export interface Transitions {
  /**
   * The single atomic write of a transition; see `Commit`. A conflict writes nothing at all. A malformed
   * commit (version not `expectedVersion + 1`, another rollback's effect or timer) is refused with an
   * error before anything is written.
   */
  commit(commit: Commit): Promise<CommitResult>;
}

/** Reads rollbacks and their audit trails (views, history, post-mortems). */
export interface RollbackReader {
  getRollback(id: string): Promise<StoredRollback | null>;
  /** Newest first (by `createdAt`, then id descending). An unknown service gives []. */
  listRollbacks(filter?: RollbackFilter): Promise<StoredRollback[]>;
  /** In version order. */
  readAudit(rollbackId: string): Promise<AuditEntry[]>;
}

/** The effects committed transitions left to carry out (the outbox worker). */
export interface Outbox {
  /**
   * At most `count` effects not yet delivered to any consumer; each is handed to exactly one caller.
   * One rollback's effects come out in commit order; across rollbacks, no global order is promised
   * (Redis visits its shards in turn). Waits up to `blockMs` when none, returning early when one is
   * committed.
   */
  readEffects(consumer: string, options: { count: number; blockMs?: number }): Promise<EffectDelivery[]>;
  /**
   * Takes over (at most `count`) effects delivered but not acknowledged for `minIdleMs` (a dead worker);
   * each reclaim counts as a delivery. Idle time is measured by the store's clock (Redis's own).
   */
  reclaimEffects(consumer: string, options: { minIdleMs: number; count: number }): Promise<EffectDelivery[]>;
  /** Removes the effect for good; acknowledging twice, or after another consumer reclaimed it, is harmless. */
  ackEffect(delivery: EffectDelivery): Promise<void>;
  /**
   * Keeps a delivered effect with `consumer`: its idle time starts again, and its delivery count
   * stays. A worker still carrying an effect out (a long step) says so, so that `reclaimEffects`
   * only ever takes over the effects of a worker that stopped.
   */
  keepEffect(consumer: string, delivery: EffectDelivery): Promise<void>;
}

/** Deadlines committed with transitions (the timer poller). */
export interface Timers {
  /**
   * Timers due at `now`, each claimed by exactly one caller: a claimed timer is hidden for
   * `visibilityMs` and comes back unless acknowledged (the claimer died). Returned with their original
   * `dueAt`, earliest first within one call.
   */
  claimDueTimers(now: number, options: { limit: number; visibilityMs: number }): Promise<TimerRecord[]>;
  ackTimer(timer: TimerRecord): Promise<void>;
  /** The earliest due time of any timer, for sleeping until then. */
  nextTimerDueAt(): Promise<number | null>;
}

/** Fenced leases (step runs, singleton loops). */
export interface Leases {
  /**
   * A lease with a fencing token (strictly increasing per name, never reused, also across expiry);
   * null when someone else holds it. The holder acquiring again extends it and gets a new token.
   */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<number | null>;
  renewLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<boolean>;
  leaseHolder(name: string): Promise<string | null>;
}

/** Remembering keys for a while, to act on a repeated delivery or click once. */
export interface Dedup {
  /** True the first time a key is seen within `ttlMs` (deduplicating retries and repeated clicks). */
  rememberOnce(key: string, ttlMs: number): Promise<boolean>;
}

/** One active rollback per service and environment. */
export interface ActiveLocks {
  /**
   * At most one active rollback per service and environment: returns the holder when taken. Idempotent
   * for the holder itself. The lock has no TTL: it is released, or replaced when found stale.
   */
  acquireActiveLock(
    service: string,
    environment: string,
    rollbackId: string,
  ): Promise<{ ok: true } | { ok: false; holder: string }>;
  /** Replaces a stale holder (a final or missing rollback) only if it is still `expectedHolder`. */
  replaceActiveLock(
    service: string,
    environment: string,
    expectedHolder: string,
    rollbackId: string,
  ): Promise<boolean>;
  /** Removes the lock only when `rollbackId` holds it. */
  releaseActiveLock(service: string, environment: string, rollbackId: string): Promise<void>;
  activeRollbackId(service: string, environment: string): Promise<string | null>;
}

/**
 * Versioned JSON documents by collection (see `collections.ts` for every collection). A collection
 * with a TTL there (`ttlOf`) expires each document that long after its last write, measured by the
 * store's clock; an expired document is gone, as if deleted (its next write starts at version 1).
 */
export interface Docs {
  getDoc<T>(collection: string, key: string): Promise<VersionedDoc<T> | null>;
  /**
   * Writes when the stored version is `expectedVersion` (0: must not exist); false on conflict. A write
   * starts the collection's TTL again.
   */
  // T lets a caller write `putDoc<Freeze>(...)` and have the value checked against the type it reads back.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  putDoc<T>(collection: string, key: string, value: T, expectedVersion: number): Promise<boolean>;
  /** Ordered by key. Refused (an error) for a collection with a TTL: its documents are kept one by one. */
  listDocs<T>(collection: string): Promise<Array<{ key: string } & VersionedDoc<T>>>;
  deleteDoc(collection: string, key: string): Promise<void>;
}

/** What CI deployed, per service and environment. */
export interface Deployments {
  /** Keeps the newest 200 per service and environment; recording the same deployment again is a no-op. */
  recordDeployment(deployment: Deployment): Promise<void>;
  /** Newest first by `at` (default limit 200). */
  listDeployments(service: string, environment: string, limit?: number): Promise<Deployment[]>;
}

/** Every role, plus health and shutdown: only the composition root and the engine hold all of it. */
export interface Store
  extends Transitions, RollbackReader, Outbox, Timers, Leases, Dedup, ActiveLocks, Docs, Deployments {
  ping(): Promise<void>;
  close(): Promise<void>;
}
