/**
 * The store contract against the machine's shared Redis (127.0.0.1:6379). Each store of this run gets
 * its own key prefix, and cleanup deletes exactly that prefix (SCAN + DEL, never FLUSH).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTION_INFO, COLLECTIONS, type Collection } from '../../../src/store/collections.js';
import { createStore } from '../../../src/store/index.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { doOnce } from '../../../src/store/once.js';
import { DEFAULT_SHARDS, KeySpace } from '../../../src/store/redis/keys.js';
import { createRedisStore, RedisStore } from '../../../src/store/redis/redis-store.js';
import { countKeysWithPrefix, deleteKeysWithPrefix } from '../../support/redis-cleanup.js';
import { describeStoreContract } from '../../support/store-contract.js';
import { commitOf, effectFor, rollbackAt, sleep } from '../../support/store-contract/fixtures.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `rollback-bot-test:${process.pid}-${Date.now().toString(36)}`;
let admin: Redis;
let stores = 0;

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});
afterAll(async () => {
  await deleteKeysWithPrefix(admin, runPrefix);
  await admin.quit();
});

async function freshStore(shards?: number): Promise<{ store: RedisStore; prefix: string }> {
  stores += 1;
  const prefix = `${runPrefix}:${stores}`;
  const store = await createRedisStore({ url: REDIS_URL, prefix, ...(shards ? { shards } : {}) });
  return { store, prefix };
}

describeStoreContract('redis', async () => {
  const { store, prefix } = await freshStore();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await deleteKeysWithPrefix(admin, prefix);
    },
  };
});

describe('RedisStore specifics', () => {
  it('refuses to open data written with another shard count', async () => {
    const { store, prefix } = await freshStore(16);
    await store.close();
    await expect(createRedisStore({ url: REDIS_URL, prefix, shards: 8 })).rejects.toThrow(/16 shards/);
  });

  it('wakes a waiting reader of another store instance within the poll interval', async () => {
    const { store: writer, prefix } = await freshStore();
    const reader = await createRedisStore({ url: REDIS_URL, prefix, pollIntervalMs: 50 });
    const started = Date.now();
    const reading = reader.readEffects('worker', { count: 1, blockMs: 5_000 });
    await writer.commit(commitOf(rollbackAt('rb-x', 1), { effects: [effectFor('rb-x', 1, 0)] }));
    expect((await reading).map((d) => d.effect.id)).toEqual(['rb-x:1:0']);
    expect(Date.now() - started).toBeLessThan(1_000);
    await Promise.all([writer.close(), reader.close()]);
  });

  it('keeps every key under its prefix, and cleanup removes them all', async () => {
    const { store, prefix } = await freshStore();
    await store.commit(commitOf(rollbackAt('rb-1', 1), { effects: [effectFor('rb-1', 1, 0)] }));
    await store.acquireLease('rb-1', 'me', 1_000);
    await store.putDoc('freezes', 'svc', { on: true }, 0);
    await store.close();
    expect(await countKeysWithPrefix(admin, prefix)).toBeGreaterThan(3);
    await deleteKeysWithPrefix(admin, prefix);
    expect(await countKeysWithPrefix(admin, prefix)).toBe(0);
  });

  const expiring = Object.entries(COLLECTION_INFO).flatMap(([name, info]) =>
    info.ttlMs === null ? [] : [{ collection: name as Collection, ttlMs: info.ttlMs }],
  );

  it.each(expiring)(
    'writes a once-record of $collection with its TTL ($ttlMs ms), in the claim and when done',
    async ({ collection, ttlMs }) => {
      const { store, prefix } = await freshStore();
      const key = new KeySpace(prefix, DEFAULT_SHARDS).doc(collection, 'rb-1:4:0:sns');
      let claimTtl = 0;
      const work = async (): Promise<boolean> => {
        claimTtl = await admin.pttl(key);
        return true;
      };
      expect(await doOnce(store, collection, 'rb-1:4:0:sns', work)).toBe('ran');
      const doneTtl = await admin.pttl(key);
      for (const ttl of [claimTtl, doneTtl]) {
        expect(ttl).toBeGreaterThan(ttlMs - 10_000);
        expect(ttl).toBeLessThanOrEqual(ttlMs);
      }
      expect(await doOnce(store, collection, 'rb-1:4:0:sns', work)).toBe('done');
      expect(await admin.exists(`${prefix}:docs:${collection}`)).toBe(0);
      await store.close();
    },
  );

  it('starts the TTL again at every write', async () => {
    const { store, prefix } = await freshStore();
    const collection = COLLECTIONS.statuspageIncidents;
    const ttlMs = COLLECTION_INFO[collection].ttlMs!;
    const key = new KeySpace(prefix, DEFAULT_SHARDS).doc(collection, 'rb-1');
    await store.putDoc(collection, 'rb-1', { phase: 'authorized' }, 0);
    await sleep(300);
    expect(await admin.pttl(key)).toBeLessThanOrEqual(ttlMs - 250);
    await store.putDoc(collection, 'rb-1', { phase: 'executing' }, 1);
    expect(await admin.pttl(key)).toBeGreaterThan(ttlMs - 250);
    await store.close();
  });

  it('still finds the records written in the hash before the collection had a TTL, until it expires', async () => {
    stores += 1;
    const prefix = `${runPrefix}:${stores}`;
    const hash = (collection: string): string => `${prefix}:docs:${collection}`;
    const { slackNotices: notices, statuspageIncidents: pages, incidents } = COLLECTIONS;
    await admin.hset(
      hash(notices),
      'rb-1:2:0',
      '1:{"at":1,"done":true}',
      'rb-1:3:0',
      '1:{"at":2,"done":false}',
    );
    await admin.hset(hash(pages), 'rb-1', '2:{"phase":"executing"}');
    await admin.hset(hash(incidents), 'inc-1', '1:{"id":"inc-1"}');
    const store = await createRedisStore({ url: REDIS_URL, prefix });

    // The old hashes expire one TTL after this first start; a restart does not push that back.
    const noticesTtl = await admin.pttl(hash(notices));
    expect(noticesTtl).toBeGreaterThan(COLLECTION_INFO[notices].ttlMs! - 10_000);
    expect(noticesTtl).toBeLessThanOrEqual(COLLECTION_INFO[notices].ttlMs!);
    expect(await admin.pttl(hash(incidents))).toBe(-1);
    await sleep(20);
    await (await createRedisStore({ url: REDIS_URL, prefix })).close();
    expect(await admin.pttl(hash(notices))).toBeLessThan(noticesTtl);

    // A notice posted before the upgrade is not posted again.
    expect(await doOnce(store, notices, 'rb-1:2:0', () => Promise.reject(new Error('posted twice')))).toBe(
      'done',
    );
    // An in-flight rollback's status page document continues, moved to its own key with the TTL.
    expect(await store.getDoc(pages, 'rb-1')).toEqual({ version: 2, value: { phase: 'executing' } });
    expect(await store.putDoc(pages, 'rb-1', { phase: 'stale' }, 1)).toBe(false);
    expect(await store.putDoc(pages, 'rb-1', { phase: 'validating' }, 2)).toBe(true);
    expect(await store.putDoc(pages, 'rb-1', { phase: 'stale' }, 2)).toBe(false);
    expect(await store.getDoc(pages, 'rb-1')).toEqual({ version: 3, value: { phase: 'validating' } });
    expect(await admin.hexists(hash(pages), 'rb-1')).toBe(0);
    const key = new KeySpace(prefix, DEFAULT_SHARDS).doc(pages, 'rb-1');
    expect(await admin.pttl(key)).toBeGreaterThan(COLLECTION_INFO[pages].ttlMs! - 10_000);
    // A claim released (deleted) is gone from the hash too.
    await store.deleteDoc(notices, 'rb-1:3:0');
    expect(await store.getDoc(notices, 'rb-1:3:0')).toBeNull();
    await store.close();
  });

  it('keeps documents of a collection without a TTL in one hash that never expires', async () => {
    const { store, prefix } = await freshStore();
    expect(COLLECTION_INFO[COLLECTIONS.incidents].ttlMs).toBeNull();
    await store.putDoc(COLLECTIONS.incidents, 'inc-1', { id: 'inc-1' }, 0);
    expect(await admin.pttl(`${prefix}:docs:${COLLECTIONS.incidents}`)).toBe(-1);
    expect(await admin.hget(`${prefix}:docs:${COLLECTIONS.incidents}`, 'inc-1')).toBe('1:{"id":"inc-1"}');
    await store.close();
  });

  it('createStore picks memory without a URL and Redis with one', async () => {
    const memory = await createStore({});
    expect(memory).toBeInstanceOf(MemoryStore);
    stores += 1;
    const redis = await createStore({ redisUrl: REDIS_URL, prefix: `${runPrefix}:${stores}` });
    expect(redis).toBeInstanceOf(RedisStore);
    await redis.ping();
    await Promise.all([memory.close(), redis.close()]);
  });
});
