/**
 * The drill part of `rollback-bot validate`: warns when a production plan's default strategy has not
 * been drilled in 30 days. The records live in the bot's Redis, so they are read only when REDIS_URL
 * names it; otherwise, or when Redis does not answer, a note says they were not checked.
 */
import { DrillRecords, staleDrillMessage, staleDrills, type DrillRecord } from '../app/drill-records.js';
import type { Problem } from '../config/problem.js';
import type { RollbackPlan } from '../domain/plan.js';
import { redact } from '../store/redis/redis-url.js';

export interface DrillCheckOptions {
  /** The bot's Redis key prefix (the bot has no setting for it; tests use their own). */
  redisPrefix?: string;
  now?: () => number;
  /** How long Redis may take to answer before the check is given up (default 5 s). */
  timeoutMs?: number;
}

export type DrillCheck = { problems: Problem[]; note?: string };

const NOT_CHECKED = 'drill records were not checked';

export async function checkDrills(
  plans: Iterable<RollbackPlan>,
  redisUrl: string | undefined,
  options: DrillCheckOptions = {},
): Promise<DrillCheck> {
  const url = redisUrl?.trim();
  if (!url)
    return {
      problems: [],
      note: `${NOT_CHECKED}: REDIS_URL is not set (set it to the bot's Redis to warn about production strategies not drilled in 30 days)`,
    };
  let records: DrillRecord[];
  try {
    records = await readRecords(url, options);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { problems: [], note: `${NOT_CHECKED}: Redis at ${redact(url)} did not answer (${detail})` };
  }
  const now = (options.now ?? Date.now)();
  return {
    problems: staleDrills(plans, records, now).map((stale) => ({
      file: `plan ${stale.service}`,
      path: 'spec.defaultStrategy',
      message: staleDrillMessage(stale),
      severity: 'warning',
      docs: 'docs/operations/freeze-and-drills.md#drills',
    })),
  };
}

async function readRecords(url: string, options: DrillCheckOptions): Promise<DrillRecord[]> {
  // Loaded only when asked: most runs of `validate` (editors, CI without Redis) never need ioredis.
  const [{ DEFAULT_REDIS_PREFIX }, { connectRedis }, { DEFAULT_SHARDS, KeySpace }, { createRedisStore }] =
    await Promise.all([
      import('../store/index.js'),
      import('../store/redis/connect.js'),
      import('../store/redis/keys.js'),
      import('../store/redis/redis-store.js'),
    ]);
  // A command-line check must not hang on an unreachable Redis: no reconnects, one try per command.
  const client = connectRedis(url, {
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: options.timeoutMs ?? 5_000,
  });
  // ioredis reports the cause (ECONNREFUSED, auth) as an event; the command only says "closed".
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const prefix = options.redisPrefix ?? DEFAULT_REDIS_PREFIX;
    const read = (async () => {
      // No bot data under the prefix: nothing was drilled, and opening the store would write its marker.
      if ((await client.exists(new KeySpace(prefix, DEFAULT_SHARDS).meta())) === 0) return [];
      const store = await createRedisStore({ client, prefix });
      return new DrillRecords(store).all();
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer within ${options.timeoutMs ?? 5_000} ms`));
      }, options.timeoutMs ?? 5_000);
    });
    return await Promise.race([read, timeout]);
  } catch (error) {
    throw cause ?? error;
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
