/**
 * The bot's Redis as a command-line check reads it (`validate`'s drill records, `audit verify`):
 * one try, no reconnects, every command bounded in time, so a command never hangs on an
 * unreachable Redis, and the cause (ECONNREFUSED, auth) is what the error says. Loaded only when a
 * command needs it: most runs of `validate` (editors, CI without Redis) never load ioredis.
 */
import type { RedisStore } from '../store/redis/redis-store.js';

export interface BotRedisOptions {
  /** The bot's Redis key prefix (the bot has no setting for it; tests use their own). */
  redisPrefix?: string;
  /** How long Redis may take to connect and to answer each command (default 5 s). */
  timeoutMs?: number;
}

/**
 * Runs `read` on the bot's store at `url`. The store is null when no bot has written under the
 * prefix: opening it would write its marker, and a check must not leave traces.
 */
export async function readBotRedis<T>(
  url: string,
  options: BotRedisOptions,
  read: (store: RedisStore | null) => Promise<T>,
): Promise<T> {
  const [{ DEFAULT_REDIS_PREFIX }, { connectRedis }, { DEFAULT_SHARDS, KeySpace }, { createRedisStore }] =
    await Promise.all([
      import('../store/index.js'),
      import('../store/redis/connect.js'),
      import('../store/redis/keys.js'),
      import('../store/redis/redis-store.js'),
    ]);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const client = connectRedis(url, {
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  // ioredis reports the cause (ECONNREFUSED, auth) as an event; the command only says "closed".
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    const prefix = options.redisPrefix ?? DEFAULT_REDIS_PREFIX;
    // The shard count the data was written with: the bot's own setting, whatever it is.
    const shards = await client.get(new KeySpace(prefix, DEFAULT_SHARDS).meta());
    if (shards === null) return await read(null);
    return await read(await createRedisStore({ client, prefix, shards: Number(shards) }));
  } catch (error) {
    throw cause ?? error;
  } finally {
    client.disconnect();
  }
}
