/**
 * The production store: Redis through ioredis, on one node, a Sentinel group or Redis Cluster. The key
 * layout (and why the shard is the hash tag) is described in keys.ts and docs/operations/redis.md.
 * Every TTL and idle time (leases, rememberOnce, expiring documents, effect reclaim) is measured by
 * Redis's own clock, so replicas with skewed clocks agree; timers are the exception, claimed against
 * the `now` the caller passes, which the engine takes from its own clock.
 */
import { StoreUnavailableError } from '../../lib/errors.js';
import type {
  AuditEntry,
  Commit,
  CommitResult,
  Deployment,
  EffectDelivery,
  RollbackFilter,
  Store,
  StoredRollback,
  TimerRecord,
  VersionedDoc,
} from '../store.js';
import { assertListable, COLLECTION_INFO, ttlOf } from '../collections.js';
import { checkCommit } from '../commit-rules.js';
import { toJson } from '../json.js';
import {
  asArray,
  asInteger,
  asString,
  decodeAudit,
  decodeDeployment,
  decodeDoc,
  decodeRollback,
  deploymentMember,
  fieldValue,
  rollbackFields,
  timerMember,
} from './codec.js';
import { connectRedis, type RedisClient } from './connect.js';
import { DEFAULT_SHARDS, DEPLOYMENTS_KEPT, KeySpace } from './keys.js';
import { OutboxReader } from './outbox.js';
import { defineScripts } from './scripts.js';

export interface RedisStoreOptions {
  /** `REDIS_URL`: see connect.ts for the accepted forms. One of `url` and `client` is required. */
  url?: string;
  /** A client made by the caller; the store then leaves closing it to the caller. */
  client?: RedisClient;
  /** Every key starts with `<prefix>:`. No braces. */
  prefix: string;
  /** Rollbacks are spread over this many hash slots. Fixed for the life of the data: see keys.ts. */
  shards?: number;
  /** How often an empty `readEffects` with `blockMs` looks again (default 100 ms). */
  pollIntervalMs?: number;
}

/** Connects, registers the scripts and checks that the data under `prefix` uses the same shard count. */
export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const keys = new KeySpace(options.prefix, options.shards ?? DEFAULT_SHARDS);
  const client = options.client ?? (options.url ? connectRedis(options.url) : undefined);
  if (!client) throw new Error('createRedisStore needs a url or a client');
  const owned = options.client === undefined;
  try {
    defineScripts(client);
    await client.set(keys.meta(), String(keys.shards), 'NX');
    const stored = await client.get(keys.meta());
    if (stored !== String(keys.shards)) {
      throw new Error(
        `the data under Redis prefix "${keys.prefix}" was written with ${stored ?? '?'} shards but this ` +
          `process is configured with ${keys.shards}: every rollback would move. Keep ${stored ?? '?'}.`,
      );
    }
    await expireLegacyHashes(client, keys);
  } catch (error) {
    if (owned) client.disconnect();
    throw error;
  }
  return new RedisStore(client, keys, owned, options.pollIntervalMs ?? 100);
}

/** How long a command waits for a dropped connection to come back before it is refused. */
const READY_WAIT_MS = 1_000;

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Before collections had TTLs, every collection was one hash, `P:docs:<collection>`, and the records
 * already there may still be needed (an open incident's replies, an in-flight rollback's status page
 * incident). So the documents of a collection with a TTL are looked for in that hash too when their
 * own key is missing, a write moves them out, and the hash itself is given the collection's TTL on the
 * first start of a process that knows it: every record in it was written before, so each is kept at
 * least its TTL (one an older replica writes there during a rolling upgrade: its TTL minus the
 * rollout). It then disappears by itself, and the fallback, finding nothing any more, can go in a
 * later release.
 */
async function expireLegacyHashes(client: RedisClient, keys: KeySpace): Promise<void> {
  for (const [collection, { ttlMs }] of Object.entries(COLLECTION_INFO)) {
    if (ttlMs !== null) await client.rbExpireIfPersistent(keys.docs(collection), ttlMs);
  }
}

export class RedisStore implements Store {
  private readonly outbox: OutboxReader;
  /** The wait for a dropped connection to come back, shared by every command issued meanwhile. */
  private reconnecting: Promise<void> | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly ownsClient: boolean,
    pollIntervalMs: number,
  ) {
    this.outbox = new OutboxReader(client, keys, pollIntervalMs);
  }

  async commit(commit: Commit): Promise<CommitResult> {
    await this.available();
    const { rollback, expectedVersion } = commit;
    checkCommit(commit);
    const shard = this.keys.shardOf(rollback.id);
    const reply = await this.client.rbCommit(
      this.keys.rollback(rollback.id),
      this.keys.audit(rollback.id),
      this.keys.outbox(shard),
      this.keys.timers(shard),
      this.keys.index(shard),
      this.keys.active(shard),
      this.keys.serviceIndex(shard, rollback.service),
      expectedVersion,
      ...rollbackFields(rollback),
      commit.audit.length,
      ...commit.audit.map((entry) => JSON.stringify(entry)),
      commit.effects.length,
      ...commit.effects.map((effect) => JSON.stringify(effect)),
      commit.timers.length,
      ...commit.timers.flatMap((timer) => [timer.dueAt, timerMember(timer)]),
    );
    const [written, version] = asArray(reply, 'commit');
    if (asInteger(written, 'commit') === 1) {
      if (commit.effects.length > 0) this.outbox.wake(shard);
      return { ok: true };
    }
    return { ok: false, reason: 'version_conflict', currentVersion: asInteger(version, 'version') };
  }

  async getRollback(id: string): Promise<StoredRollback | null> {
    await this.available();
    const key = this.keys.rollback(id);
    return decodeRollback(await this.client.hgetall(key), key);
  }

  async listRollbacks(filter: RollbackFilter = {}): Promise<StoredRollback[]> {
    await this.available();
    const indexOf = (shard: number): string =>
      filter.service !== undefined
        ? this.keys.serviceIndex(shard, filter.service)
        : filter.activeOnly
          ? this.keys.active(shard)
          : this.keys.index(shard);
    const indexes = await Promise.all(
      this.keys.allShards().map((shard) => this.client.zrange(indexOf(shard), '0', '-1', 'WITHSCORES')),
    );
    const candidates = indexes
      .flatMap((flat) => {
        const pairs: Array<{ id: string; createdAt: number }> = [];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          pairs.push({ id: asString(flat[i], 'index id'), createdAt: Number(flat[i + 1]) });
        }
        return pairs;
      })
      .sort((a, b) => b.createdAt - a.createdAt || compareIds(b.id, a.id));
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    const out: StoredRollback[] = [];
    for (let i = 0; i < candidates.length && out.length < limit; i += 50) {
      const batch = await Promise.all(candidates.slice(i, i + 50).map(({ id }) => this.getRollback(id)));
      for (const rollback of batch) {
        if (rollback && out.length < limit && matches(rollback, filter)) out.push(rollback);
      }
    }
    return out;
  }

  async readAudit(rollbackId: string): Promise<AuditEntry[]> {
    await this.available();
    const entries = await this.client.xrange(this.keys.audit(rollbackId), '-', '+');
    return entries.map(([, fields]) => decodeAudit(fieldValue(fields, 'e', 'audit entry')));
  }

  async readEffects(
    consumer: string,
    options: { count: number; blockMs?: number },
  ): Promise<EffectDelivery[]> {
    await this.available();
    return this.outbox.read(consumer, options.count, options.blockMs ?? 0);
  }

  async reclaimEffects(
    consumer: string,
    options: { minIdleMs: number; count: number },
  ): Promise<EffectDelivery[]> {
    await this.available();
    return this.outbox.reclaim(consumer, options.minIdleMs, options.count);
  }

  async keepEffect(consumer: string, delivery: EffectDelivery): Promise<void> {
    await this.available();
    return this.outbox.keep(consumer, delivery.receipt);
  }

  async ackEffect(delivery: EffectDelivery): Promise<void> {
    await this.available();
    return this.outbox.ack(delivery.receipt);
  }

  async claimDueTimers(
    now: number,
    options: { limit: number; visibilityMs: number },
  ): Promise<TimerRecord[]> {
    await this.available();
    return this.outbox.claimTimers(now, options.limit, options.visibilityMs);
  }

  async ackTimer(timer: TimerRecord): Promise<void> {
    await this.available();
    await this.client.zrem(this.keys.timers(this.keys.shardOf(timer.rollbackId)), timerMember(timer));
  }

  async nextTimerDueAt(): Promise<number | null> {
    await this.available();
    return this.outbox.nextTimerDueAt();
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<number | null> {
    await this.available();
    const token = await this.client.rbAcquireLease(
      this.keys.lease(name),
      this.keys.fence(name),
      owner,
      ttlMs,
    );
    return token === null ? null : asInteger(token, 'fencing token');
  }

  async renewLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    await this.available();
    return asInteger(await this.client.rbRenewLease(this.keys.lease(name), owner, ttlMs), 'renew') === 1;
  }

  async releaseLease(name: string, owner: string): Promise<boolean> {
    await this.available();
    return asInteger(await this.client.rbDeleteIfEqual(this.keys.lease(name), owner), 'release') === 1;
  }

  async leaseHolder(name: string): Promise<string | null> {
    await this.available();
    return this.client.get(this.keys.lease(name));
  }

  async rememberOnce(key: string, ttlMs: number): Promise<boolean> {
    await this.available();
    return (await this.client.set(this.keys.once(key), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async acquireActiveLock(
    service: string,
    environment: string,
    rollbackId: string,
  ): Promise<{ ok: true } | { ok: false; holder: string }> {
    await this.available();
    const reply = await this.client.rbAcquireLock(this.keys.lock(service, environment), rollbackId);
    const [taken, holder] = asArray(reply, 'active lock');
    return asInteger(taken, 'active lock') === 1
      ? { ok: true }
      : { ok: false, holder: asString(holder, 'holder') };
  }

  async replaceActiveLock(
    service: string,
    environment: string,
    expectedHolder: string,
    rollbackId: string,
  ): Promise<boolean> {
    await this.available();
    const lock = this.keys.lock(service, environment);
    return asInteger(await this.client.rbReplaceLock(lock, expectedHolder, rollbackId), 'replace lock') === 1;
  }

  async releaseActiveLock(service: string, environment: string, rollbackId: string): Promise<void> {
    await this.available();
    await this.client.rbDeleteIfEqual(this.keys.lock(service, environment), rollbackId);
  }

  async activeRollbackId(service: string, environment: string): Promise<string | null> {
    await this.available();
    return this.client.get(this.keys.lock(service, environment));
  }

  async getDoc<T>(collection: string, key: string): Promise<VersionedDoc<T> | null> {
    await this.available();
    const docs = this.keys.docs(collection);
    let where = `${docs} ${key}`;
    let text: string | null;
    if (ttlOf(collection) === null) text = await this.client.hget(docs, key);
    else {
      const docKey = this.keys.doc(collection, key);
      // Both at once: a miss (every first claim of a once-record) costs one round trip, not two.
      const [own, legacy] = await Promise.all([this.client.get(docKey), this.client.hget(docs, key)]);
      if (own !== null) where = docKey;
      text = own ?? legacy;
    }
    if (text === null) return null;
    const { version, value } = decodeDoc(text, where);
    // The store keeps what it was given; the caller owns the shape of T.
    return { version, value: value as T };
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- see Store.putDoc
  async putDoc<T>(collection: string, key: string, value: T, expectedVersion: number): Promise<boolean> {
    await this.available();
    const json = toJson(value);
    const docs = this.keys.docs(collection);
    const ttlMs = ttlOf(collection);
    if (ttlMs === null)
      return asInteger(await this.client.rbPutDoc(docs, key, expectedVersion, json), 'put doc') === 1;
    const docKey = this.keys.doc(collection, key);
    const put = async (versionIfAbsent: number): Promise<boolean> =>
      asInteger(
        await this.client.rbPutExpiringDoc(docKey, expectedVersion, json, ttlMs, versionIfAbsent),
        'put doc',
      ) === 1;
    if (await put(0)) return true;
    // A conflict, or the caller read the document from the hash written before the collection had a
    // TTL (see expireLegacyHashes): then it moves to its own key, if nobody wrote that meanwhile.
    if (expectedVersion === 0) return false;
    const legacy = await this.client.hget(docs, key);
    if (legacy === null || decodeDoc(legacy, `${docs} ${key}`).version !== expectedVersion) return false;
    if (!(await put(expectedVersion))) return false;
    await this.client.hdel(docs, key);
    return true;
  }

  async listDocs<T>(collection: string): Promise<Array<{ key: string } & VersionedDoc<T>>> {
    await this.available();
    assertListable(collection);
    const docs = this.keys.docs(collection);
    const hash = await this.client.hgetall(docs);
    return Object.entries(hash)
      .sort(([a], [b]) => compareIds(a, b))
      .map(([key, text]) => {
        const { version, value } = decodeDoc(text, `${docs} ${key}`);
        return { key, version, value: value as T };
      });
  }

  async deleteDoc(collection: string, key: string): Promise<void> {
    await this.available();
    // The hash also for a collection with a TTL: the document may have been written before it had one.
    if (ttlOf(collection) === null) await this.client.hdel(this.keys.docs(collection), key);
    else
      await Promise.all([
        this.client.del(this.keys.doc(collection, key)),
        this.client.hdel(this.keys.docs(collection), key),
      ]);
  }

  async recordDeployment(deployment: Deployment): Promise<void> {
    await this.available();
    if (!Number.isFinite(deployment.at))
      throw new Error(`deployment time must be a number, got ${deployment.at}`);
    const key = this.keys.deployments(deployment.service, deployment.environment);
    await this.client
      .multi()
      .zadd(key, deployment.at, deploymentMember(deployment))
      .zremrangebyrank(key, 0, -(DEPLOYMENTS_KEPT + 1))
      .exec();
  }

  async listDeployments(
    service: string,
    environment: string,
    limit = DEPLOYMENTS_KEPT,
  ): Promise<Deployment[]> {
    await this.available();
    if (limit <= 0) return [];
    const members = await this.client.zrevrange(this.keys.deployments(service, environment), 0, limit - 1);
    return members.map((member) => decodeDeployment(member));
  }

  async ping(): Promise<void> {
    await this.available();
    await this.client.ping();
  }

  /**
   * Refuses while the connection is down, instead of queueing the command until ioredis gives up on
   * it (tens of seconds): a person clicking gets an answer within Slack's 3 s, and a worker backs off
   * and retries. A blip (a restart, a failover) is waited out for up to a second first.
   */
  private available(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    const client = this.client;
    // One wait for all the callers of the moment (workers, heartbeats, requests).
    this.reconnecting ??= new Promise<void>((resolve, reject) => {
      const ready = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        client.off('ready', ready);
        reject(new StoreUnavailableError());
      }, READY_WAIT_MS);
      client.once('ready', ready);
    }).finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  async close(): Promise<void> {
    this.outbox.close();
    if (this.ownsClient) await this.client.quit();
  }
}

function matches(rollback: StoredRollback, filter: RollbackFilter): boolean {
  if (filter.service !== undefined && rollback.service !== filter.service) return false;
  if (filter.state !== undefined && rollback.state !== filter.state) return false;
  return !(filter.activeOnly && rollback.final);
}
