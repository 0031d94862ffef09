/**
 * Turns `REDIS_URL` into an ioredis client: one node (`redis://`, `rediss://`), the master of a
 * Sentinel group (`redis+sentinel://...`) or a Cluster (a comma list of seed nodes). The forms are
 * parsed by `redis-url.ts`, the same parser that checks `REDIS_URL` at start-up.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl, redact } from './redis-url.js';

export type RedisClient = Redis | Cluster;

/**
 * Commands issued in the same turn of the event loop go out in one write (per Cluster node), in
 * order: a `/rollback status` asks all 16 shard indexes at once, and under load each of those was a
 * write syscall of its own (a fifth of the bot's CPU on Redis, docs/performance.md).
 */
const PIPELINED = { enableAutoPipelining: true } as const;

/** A client for the target. Commands queue while it connects; the store's first call waits for it. */
export function connectRedis(url: string, given: RedisOptions = {}): RedisClient {
  const { target, problem } = parseRedisUrl(url);
  if (!target) throw new Error(`REDIS_URL ${problem ?? `is not usable ("${redact(url)}")`}`);
  const options = { ...PIPELINED, ...given };
  switch (target.mode) {
    case 'single':
      return new Redis(target.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: target.sentinels,
        name: target.masterName,
        db: target.db,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      });
    case 'cluster':
      return new Cluster(target.nodes, {
        ...PIPELINED,
        redisOptions: {
          ...(target.username ? { username: target.username } : {}),
          ...(target.password ? { password: target.password } : {}),
          ...(target.tls ? { tls: {} } : {}),
        },
      });
  }
}
