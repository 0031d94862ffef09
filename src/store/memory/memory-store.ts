/**
 * The store of the demo and the unit tests: one process, nothing survives it. It keeps the Redis
 * store's semantics exactly (the contract suite runs against both), including that values go through
 * JSON on the way in and out, so what works here does not break on Redis. Lease, rememberOnce and
 * document TTLs and effect idle times follow the injected clock; a `blockMs` wait is real time.
 */
import { Sleeper } from '../../lib/sleeper.js';
import { assertListable, ttlOf } from '../collections.js';
import { checkCommit } from '../commit-rules.js';
import { jsonCopy, parseJson, toJson } from '../json.js';
import type {
  AuditEntry,
  Commit,
  CommitResult,
  Deployment,
  EffectDelivery,
  OutboxEffect,
  RollbackFilter,
  Store,
  StoredRollback,
  TimerRecord,
  VersionedDoc,
} from '../store.js';

export interface MemoryStoreOptions {
  /** Milliseconds since the epoch; tests pass a fake clock to expire leases without waiting. */
  now?: () => number;
}

interface OutboxEntry {
  seq: number;
  effect: OutboxEffect;
  /** 0 while never delivered. */
  deliveries: number;
  deliveredAt: number;
}

interface StoredDoc {
  version: number;
  json: string;
  /** Gone from this time on (the injected clock); null: never. */
  expiresAt: number | null;
}

/** What listings filter and sort on, kept beside the record's JSON. */
type RollbackIndex = Pick<StoredRollback, 'id' | 'service' | 'state' | 'final' | 'createdAt' | 'version'>;

const DEPLOYMENTS_KEPT = 200;
/** Past this many documents in one collection with a TTL, a write sweeps out the expired ones. */
const SWEEP_ABOVE = 10_000;

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const timerKey = (t: TimerRecord): string => JSON.stringify([t.rollbackId, t.timer, t.seq, t.dueAt]);
const deploymentKey = ({ service, environment, version, commit, by, at }: Deployment): string =>
  JSON.stringify({ service, environment, version, commit, by, at });

export class MemoryStore implements Store {
  private readonly now: () => number;
  /**
   * Records and audit entries are kept as their JSON, as Redis keeps them: a read parses, and needs
   * no stringify to copy (a `/rollback status` reads every active record; the copy was its top cost).
   */
  private readonly rollbacks = new Map<string, { rollback: RollbackIndex; json: string }>();
  private readonly audit = new Map<string, string[]>();
  private readonly outbox: OutboxEntry[] = [];
  private nextSeq = 1;
  private readonly timers = new Map<string, { timer: TimerRecord; score: number }>();
  private readonly leases = new Map<string, { owner: string; expiresAt: number }>();
  private readonly fences = new Map<string, number>();
  private readonly remembered = new Map<string, number>();
  private readonly locks = new Map<string, string>();
  private readonly docs = new Map<string, Map<string, StoredDoc>>();
  private readonly deployments = new Map<string, Map<string, Deployment>>();
  private readonly sleeper = new Sleeper();
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async commit(commit: Commit): Promise<CommitResult> {
    await Promise.resolve();
    checkCommit(commit);
    const { rollback, expectedVersion } = commit;
    const currentVersion = this.rollbacks.get(rollback.id)?.rollback.version ?? 0;
    if (currentVersion !== expectedVersion) return { ok: false, reason: 'version_conflict', currentVersion };
    const json = toJson(rollback);
    const { id, service, state, final, createdAt, version } = rollback;
    this.rollbacks.set(id, { rollback: { id, service, state, final, createdAt, version }, json });
    const audit = this.audit.get(rollback.id) ?? [];
    audit.push(...commit.audit.map((entry) => toJson(entry)));
    this.audit.set(rollback.id, audit);
    for (const effect of jsonCopy(commit.effects)) {
      this.outbox.push({ seq: this.nextSeq++, effect, deliveries: 0, deliveredAt: 0 });
    }
    for (const timer of jsonCopy(commit.timers))
      this.timers.set(timerKey(timer), { timer, score: timer.dueAt });
    if (commit.effects.length > 0) this.wake();
    return { ok: true };
  }

  async getRollback(id: string): Promise<StoredRollback | null> {
    await Promise.resolve();
    const kept = this.rollbacks.get(id);
    return kept ? (parseJson(kept.json) as StoredRollback) : null;
  }

  async listRollbacks(filter: RollbackFilter = {}): Promise<StoredRollback[]> {
    await Promise.resolve();
    const found = [...this.rollbacks.values()]
      .filter(
        ({ rollback: r }) =>
          (filter.service === undefined || r.service === filter.service) &&
          (filter.state === undefined || r.state === filter.state) &&
          !(filter.activeOnly && r.final),
      )
      .sort(({ rollback: a }, { rollback: b }) => b.createdAt - a.createdAt || compareText(b.id, a.id));
    return found.slice(0, filter.limit ?? found.length).map(({ json }) => parseJson(json) as StoredRollback);
  }

  async readAudit(rollbackId: string): Promise<AuditEntry[]> {
    await Promise.resolve();
    return parseJson(`[${(this.audit.get(rollbackId) ?? []).join(',')}]`) as AuditEntry[];
  }

  async readEffects(
    consumer: string,
    options: { count: number; blockMs?: number },
  ): Promise<EffectDelivery[]> {
    if (options.count <= 0) return [];
    const deadline = Date.now() + (options.blockMs ?? 0);
    for (;;) {
      await Promise.resolve();
      const fresh = this.outbox.filter((entry) => entry.deliveries === 0).slice(0, options.count);
      const left = deadline - Date.now();
      if (fresh.length > 0 || left <= 0 || this.closed) return fresh.map((entry) => this.deliver(entry));
      await this.sleeper.sleep(left);
    }
  }

  async reclaimEffects(
    consumer: string,
    options: { minIdleMs: number; count: number },
  ): Promise<EffectDelivery[]> {
    await Promise.resolve();
    const now = this.now();
    return this.outbox
      .filter((entry) => entry.deliveries > 0 && now - entry.deliveredAt >= options.minIdleMs)
      .slice(0, options.count)
      .map((entry) => this.deliver(entry));
  }

  async keepEffect(_consumer: string, delivery: EffectDelivery): Promise<void> {
    await Promise.resolve();
    const entry = this.outbox.find((e) => `m/${e.seq}` === delivery.receipt);
    if (entry) entry.deliveredAt = this.now();
  }

  async ackEffect(delivery: EffectDelivery): Promise<void> {
    await Promise.resolve();
    const index = this.outbox.findIndex((entry) => `m/${entry.seq}` === delivery.receipt);
    if (index >= 0) this.outbox.splice(index, 1);
  }

  async claimDueTimers(
    now: number,
    options: { limit: number; visibilityMs: number },
  ): Promise<TimerRecord[]> {
    await Promise.resolve();
    const due = [...this.timers.entries()]
      .filter(([, { score }]) => score <= now)
      .sort(([keyA, a], [keyB, b]) => a.score - b.score || compareText(keyA, keyB))
      .slice(0, options.limit);
    for (const [, entry] of due) entry.score = now + options.visibilityMs;
    return due.map(([, { timer }]) => jsonCopy(timer)).sort((a, b) => a.dueAt - b.dueAt);
  }

  async ackTimer(timer: TimerRecord): Promise<void> {
    await Promise.resolve();
    this.timers.delete(timerKey(timer));
  }

  async nextTimerDueAt(): Promise<number | null> {
    await Promise.resolve();
    const scores = [...this.timers.values()].map(({ score }) => score);
    return scores.length > 0 ? Math.min(...scores) : null;
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<number | null> {
    await Promise.resolve();
    const holder = this.holder(name);
    if (holder !== null && holder !== owner) return null;
    this.leases.set(name, { owner, expiresAt: this.now() + ttlMs });
    const token = (this.fences.get(name) ?? 0) + 1;
    this.fences.set(name, token);
    return token;
  }

  async renewLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    await Promise.resolve();
    if (this.holder(name) !== owner) return false;
    this.leases.set(name, { owner, expiresAt: this.now() + ttlMs });
    return true;
  }

  async releaseLease(name: string, owner: string): Promise<boolean> {
    await Promise.resolve();
    if (this.holder(name) !== owner) return false;
    this.leases.delete(name);
    return true;
  }

  async leaseHolder(name: string): Promise<string | null> {
    await Promise.resolve();
    return this.holder(name);
  }

  private holder(name: string): string | null {
    const lease = this.leases.get(name);
    return lease && lease.expiresAt > this.now() ? lease.owner : null;
  }

  async rememberOnce(key: string, ttlMs: number): Promise<boolean> {
    await Promise.resolve();
    const now = this.now();
    if ((this.remembered.get(key) ?? 0) > now) return false;
    if (this.remembered.size > 10_000) {
      for (const [old, expiresAt] of this.remembered) if (expiresAt <= now) this.remembered.delete(old);
    }
    this.remembered.set(key, now + ttlMs);
    return true;
  }

  async acquireActiveLock(
    service: string,
    environment: string,
    rollbackId: string,
  ): Promise<{ ok: true } | { ok: false; holder: string }> {
    await Promise.resolve();
    const key = JSON.stringify([service, environment]);
    const holder = this.locks.get(key);
    if (holder !== undefined && holder !== rollbackId) return { ok: false, holder };
    this.locks.set(key, rollbackId);
    return { ok: true };
  }

  async replaceActiveLock(
    service: string,
    environment: string,
    expectedHolder: string,
    rollbackId: string,
  ): Promise<boolean> {
    await Promise.resolve();
    const key = JSON.stringify([service, environment]);
    if (this.locks.get(key) !== expectedHolder) return false;
    this.locks.set(key, rollbackId);
    return true;
  }

  async releaseActiveLock(service: string, environment: string, rollbackId: string): Promise<void> {
    await Promise.resolve();
    const key = JSON.stringify([service, environment]);
    if (this.locks.get(key) === rollbackId) this.locks.delete(key);
  }

  async activeRollbackId(service: string, environment: string): Promise<string | null> {
    await Promise.resolve();
    return this.locks.get(JSON.stringify([service, environment])) ?? null;
  }

  async getDoc<T>(collection: string, key: string): Promise<VersionedDoc<T> | null> {
    await Promise.resolve();
    const doc = this.liveDoc(collection, key);
    return doc ? { version: doc.version, value: JSON.parse(doc.json) as T } : null;
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- see Store.putDoc
  async putDoc<T>(collection: string, key: string, value: T, expectedVersion: number): Promise<boolean> {
    await Promise.resolve();
    const version = this.liveDoc(collection, key)?.version ?? 0;
    if (version !== expectedVersion) return false;
    const docs = this.docs.get(collection) ?? new Map<string, StoredDoc>();
    const ttlMs = ttlOf(collection);
    const now = this.now();
    if (ttlMs !== null && docs.size > SWEEP_ABOVE) {
      for (const [old, doc] of docs) if (doc.expiresAt !== null && doc.expiresAt <= now) docs.delete(old);
    }
    docs.set(key, {
      version: version + 1,
      json: toJson(value),
      expiresAt: ttlMs === null ? null : now + ttlMs,
    });
    this.docs.set(collection, docs);
    return true;
  }

  async listDocs<T>(collection: string): Promise<Array<{ key: string } & VersionedDoc<T>>> {
    await Promise.resolve();
    assertListable(collection);
    return [...(this.docs.get(collection) ?? new Map<string, StoredDoc>())]
      .sort(([a], [b]) => compareText(a, b))
      .map(([key, doc]) => ({ key, version: doc.version, value: JSON.parse(doc.json) as T }));
  }

  async deleteDoc(collection: string, key: string): Promise<void> {
    await Promise.resolve();
    this.docs.get(collection)?.delete(key);
  }

  /** The document unless its TTL has passed (then it is dropped, as Redis drops an expired key). */
  private liveDoc(collection: string, key: string): StoredDoc | null {
    const docs = this.docs.get(collection);
    const doc = docs?.get(key);
    if (!doc) return null;
    if (doc.expiresAt !== null && doc.expiresAt <= this.now()) {
      docs?.delete(key);
      return null;
    }
    return doc;
  }

  async recordDeployment(deployment: Deployment): Promise<void> {
    await Promise.resolve();
    if (!Number.isFinite(deployment.at))
      throw new Error(`deployment time must be a number, got ${deployment.at}`);
    const key = JSON.stringify([deployment.service, deployment.environment]);
    const list = this.deployments.get(key) ?? new Map<string, Deployment>();
    list.set(deploymentKey(deployment), jsonCopy(deployment));
    const kept = this.sortedDeployments(list).slice(0, DEPLOYMENTS_KEPT);
    this.deployments.set(key, new Map(kept));
  }

  async listDeployments(
    service: string,
    environment: string,
    limit = DEPLOYMENTS_KEPT,
  ): Promise<Deployment[]> {
    await Promise.resolve();
    const list = this.deployments.get(JSON.stringify([service, environment]));
    if (!list || limit <= 0) return [];
    return this.sortedDeployments(list)
      .slice(0, limit)
      .map(([, deployment]) => jsonCopy(deployment));
  }

  async ping(): Promise<void> {
    await Promise.resolve();
  }

  async close(): Promise<void> {
    await Promise.resolve();
    this.closed = true;
    this.wake();
  }

  /** Newest first; equal times in the order Redis gives them (member text, descending). */
  private sortedDeployments(list: Map<string, Deployment>): Array<[string, Deployment]> {
    return [...list].sort(([keyA, a], [keyB, b]) => b.at - a.at || compareText(keyB, keyA));
  }

  private deliver(entry: OutboxEntry): EffectDelivery {
    entry.deliveries += 1;
    entry.deliveredAt = this.now();
    return { receipt: `m/${entry.seq}`, effect: jsonCopy(entry.effect), deliveries: entry.deliveries };
  }

  private wake(): void {
    this.sleeper.wake();
  }
}
