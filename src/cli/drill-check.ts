/**
 * The drill part of `rollback-bot validate`: warns when a production plan's default strategy has not
 * been drilled in 30 days. The records live in the bot's Redis, so they are read only when REDIS_URL
 * names it; otherwise, or when Redis does not answer, a note says they were not checked.
 */
import { DrillRecords, staleDrillMessage, staleDrills, type DrillRecord } from '../app/drill-records.js';
import type { Problem } from '../config/problem.js';
import type { RollbackPlan } from '../domain/plan.js';
import { redact } from '../store/redis/redis-url.js';
import { readBotRedis, type BotRedisOptions } from './bot-redis.js';

export interface DrillCheckOptions extends BotRedisOptions {
  now?: () => number;
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

function readRecords(url: string, options: DrillCheckOptions): Promise<DrillRecord[]> {
  return readBotRedis(url, options, async (store) => (store === null ? [] : new DrillRecords(store).all()));
}
