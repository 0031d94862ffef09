import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createRedisStore } from '../../../src/store/redis/redis-store.js';
import { deleteKeysWithPrefix } from '../../support/redis-cleanup.js';
import { describeEngineSuite } from '../../support/engine-suite.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const runPrefix = `rollback-bot-test:engine:${process.pid}-${Date.now().toString(36)}`;
let admin: Redis;
let count = 0;
beforeAll(() => {
  admin = new Redis(REDIS_URL);
});
afterAll(async () => {
  await deleteKeysWithPrefix(admin, runPrefix);
  await admin.quit();
});

describeEngineSuite('real Redis', async () => {
  count += 1;
  const prefix = `${runPrefix}:${count}`;
  const store = await createRedisStore({ url: REDIS_URL, prefix });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await deleteKeysWithPrefix(admin, prefix);
    },
  };
});
