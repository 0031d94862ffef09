/**
 * The restartable standalone Redis helper (AOF, appendfsync always) the engine's "Redis restarted
 * mid-rollback" test builds on: what a commit acknowledged is still there after a restart, and the
 * store's client reconnects by itself.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../../src/store/redis/redis-store.js';
import { startStandaloneRedis, type StandaloneRedis } from '../../support/redis-servers.js';
import { commitOf, effectFor, rollbackAt, timerFor } from '../../support/store-contract/fixtures.js';

let redis: StandaloneRedis | undefined;
let store: RedisStore | undefined;

beforeAll(async () => {
  redis = await startStandaloneRedis();
  store = await createRedisStore({ url: redis.url, prefix: 'restart-test' });
}, 30_000);

afterAll(async () => {
  await store?.close().catch(() => undefined);
  await redis?.destroy();
});

it('keeps every acknowledged commit across a restart', async () => {
  const id = 'rb-restart';
  const rollback = rollbackAt(id, 1);
  const commit = commitOf(rollback, {
    effects: [effectFor(id, 1, 0)],
    timers: [timerFor(id, 'escalate', 1, 500)],
  });
  expect(await store!.commit(commit)).toEqual({ ok: true });
  const [pending] = await store!.readEffects('worker-before', { count: 1 });
  expect(pending).toBeDefined();

  await redis!.restart();

  expect(await store!.getRollback(id)).toEqual(rollback);
  expect(await store!.readAudit(id)).toEqual(commit.audit);
  expect(await store!.claimDueTimers(1_000, { limit: 10, visibilityMs: 1_000 })).toEqual(commit.timers);
  // The delivered-but-unacknowledged effect survived in the consumer group's pending list.
  const reclaimed = await store!.reclaimEffects('worker-after', { minIdleMs: 0, count: 10 });
  expect(reclaimed.map((delivery) => delivery.effect.id)).toEqual([`${id}:1:0`]);
  expect(reclaimed[0]?.deliveries).toBe(2);
}, 30_000);
