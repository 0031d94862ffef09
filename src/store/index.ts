/**
 * Chooses the store: Redis when a URL is given, memory otherwise. Whether memory is acceptable (not in
 * production) and what to tell the operator is the caller's decision, not this module's.
 */
import { MemoryStore } from './memory/memory-store.js';
import { createRedisStore } from './redis/redis-store.js';
import type { Store } from './store.js';

export type { Store } from './store.js';
export { MemoryStore } from './memory/memory-store.js';
export { createRedisStore, RedisStore } from './redis/redis-store.js';

/** The Redis key prefix of the bot; `rollback-bot validate` reads the drill records under it too. */
export const DEFAULT_REDIS_PREFIX = 'rollback-bot';

export interface StoreOptions {
  /** `REDIS_URL` (redis://, rediss://, redis+sentinel://, or a comma list of cluster nodes); unset: memory. */
  redisUrl?: string | undefined;
  /** Redis key prefix (default `DEFAULT_REDIS_PREFIX`). */
  prefix?: string;
  /** Redis shards (default 16); fixed for the life of the data. */
  shards?: number;
  /** Clock of the memory store (Redis measures TTLs with its own clock). */
  now?: () => number;
}

export async function createStore(options: StoreOptions = {}): Promise<Store> {
  const redisUrl = options.redisUrl?.trim();
  if (!redisUrl) return new MemoryStore(options.now ? { now: options.now } : {});
  return createRedisStore({
    url: redisUrl,
    prefix: options.prefix ?? DEFAULT_REDIS_PREFIX,
    ...(options.shards !== undefined ? { shards: options.shards } : {}),
  });
}
