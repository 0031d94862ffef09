/**
 * The store contract against a 3-node Redis Cluster this test starts on free ports (and always stops),
 * connected the way production would be: REDIS_URL as a comma list of redis:// seed nodes.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../../src/store/redis/redis-store.js';
import { deleteKeysWithPrefix } from '../../support/redis-cleanup.js';
import { startRedisCluster, type RedisCluster } from '../../support/redis-servers.js';
import { describeStoreContract } from '../../support/store-contract.js';
import { commitOf, effectFor, rollbackAt, timerFor } from '../../support/store-contract/fixtures.js';

let cluster: RedisCluster | undefined;
let admin: Cluster | undefined;
let stores = 0;
const runPrefix = `rollback-bot-test:${process.pid}`;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  admin = new Cluster(cluster.nodes);
}, 90_000);

afterAll(async () => {
  await admin?.quit();
  await cluster?.stop();
}, 30_000);

function clusterUrl(): string {
  if (!cluster) throw new Error('the test cluster did not start');
  return cluster.url;
}

describeStoreContract('redis cluster', async () => {
  stores += 1;
  const prefix = `${runPrefix}:${stores}`;
  const store = await createRedisStore({ url: clusterUrl(), prefix });
  return {
    store,
    cleanup: async () => {
      await store.close();
      if (admin) await deleteKeysWithPrefix(admin, prefix);
    },
  };
});

describe('RedisStore on Cluster', () => {
  it('spreads rollbacks over the masters while each commit stays in one slot', async () => {
    stores += 1;
    const store = await createRedisStore({ url: clusterUrl(), prefix: `${runPrefix}:${stores}` });
    for (let n = 0; n < 32; n += 1) {
      const id = `rb-${n}`;
      const commit = commitOf(rollbackAt(id, 1), {
        effects: [effectFor(id, 1, 0)],
        timers: [timerFor(id, 'escalate', 1, 1)],
      });
      expect(await store.commit(commit)).toEqual({ ok: true });
    }
    const masters = admin!.nodes('master');
    const sizes = await Promise.all(masters.map((node) => node.dbsize()));
    expect(sizes.filter((size) => size > 0).length).toBeGreaterThan(1);
    expect(await store.listRollbacks()).toHaveLength(32);
    expect(await store.readEffects('worker', { count: 100 })).toHaveLength(32);
    await store.close();
  });
});
