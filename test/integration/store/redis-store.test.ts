/**
 * The store contract against the machine's shared Redis (127.0.0.1:6379). Each store of this run gets
 * its own key prefix, and cleanup deletes exactly that prefix (SCAN + DEL, never FLUSH).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../../src/store/index.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { createRedisStore, RedisStore } from '../../../src/store/redis/redis-store.js';
import { countKeysWithPrefix, deleteKeysWithPrefix } from '../../support/redis-cleanup.js';
import { describeStoreContract } from '../../support/store-contract.js';
import { commitOf, effectFor, rollbackAt } from '../../support/store-contract/fixtures.js';

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
