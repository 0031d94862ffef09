/**
 * When each plan strategy was last rehearsed: a resolved drill is recorded per service and strategy
 * (store docs, collection `drills`), `/rollback plan` shows it and `rollback-bot validate` warns when
 * a plan's production strategy has not been drilled for 30 days. A plan that was never rehearsed is
 * a plan nobody knows works.
 */
import { z } from 'zod';
import type { RollbackPlan } from '../domain/plan.js';
import { changeDoc } from '../store/change-doc.js';
import { COLLECTIONS } from '../store/collections.js';
import type { Docs } from '../store/store.js';

/** Drills run here, never in production. */
export const DRILL_ENVIRONMENT = 'staging';
export const DRILL_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1_000;

export interface DrillRecord {
  service: string;
  strategy: string;
  rollbackId: string;
  /** When the drill resolved. */
  at: number;
  /** Who declared the drill (a Slack user id). */
  by: string;
}

const drillRecordSchema = z.object({
  service: z.string().min(1),
  strategy: z.string().min(1),
  rollbackId: z.string().min(1),
  at: z.number(),
  by: z.string(),
});

export const drillKey = (service: string, strategy: string): string => `${service}/${strategy}`;

/** The record a store doc holds, or null for anything else (written by a newer or broken version). */
function parseRecord(value: unknown): DrillRecord | null {
  const parsed = drillRecordSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export class DrillRecords {
  constructor(private readonly store: Docs) {}

  /**
   * Keeps the newest drill per service and strategy. Effects are delivered at least once, possibly
   * late: recording an older drill again never replaces a newer one.
   */
  async record(record: DrillRecord): Promise<void> {
    const key = drillKey(record.service, record.strategy);
    await changeDoc<unknown>(
      this.store,
      COLLECTIONS.drills,
      key,
      (current) => {
        const existing = current === null ? null : parseRecord(current);
        return existing !== null && existing.at >= record.at ? null : record;
      },
      5,
    );
  }

  async last(service: string, strategy: string): Promise<DrillRecord | null> {
    const doc = await this.store.getDoc<unknown>(COLLECTIONS.drills, drillKey(service, strategy));
    return doc === null ? null : parseRecord(doc.value);
  }

  async all(): Promise<DrillRecord[]> {
    const docs = await this.store.listDocs<unknown>(COLLECTIONS.drills);
    return docs.map((doc) => parseRecord(doc.value)).filter((r): r is DrillRecord => r !== null);
  }
}

/** `last tested: 2026-11-23 (drill rb-1a2b3c)` or `never drilled`. */
export function lastTestedText(record: DrillRecord | null): string {
  if (record === null) return 'never drilled';
  return `last tested: ${new Date(record.at).toISOString().slice(0, 10)} (drill ${record.rollbackId})`;
}

export interface StaleDrill {
  service: string;
  strategy: string;
  last: DrillRecord | null;
  /** The plan has no staging environment, so `/rollback drill` cannot rehearse it. */
  drillable: boolean;
}

/**
 * Plans covering production whose default strategy (the one an incident uses) was not drilled
 * within `maxAgeMs` of `now`. Pure: the caller reads the records and the clock.
 */
export function staleDrills(
  plans: Iterable<RollbackPlan>,
  records: readonly DrillRecord[],
  now: number,
  maxAgeMs: number = DRILL_MAX_AGE_MS,
): StaleDrill[] {
  const newest = new Map<string, DrillRecord>();
  for (const record of records) {
    const key = drillKey(record.service, record.strategy);
    const seen = newest.get(key);
    if (seen === undefined || seen.at < record.at) newest.set(key, record);
  }
  const stale: StaleDrill[] = [];
  for (const plan of plans) {
    if (!plan.environments.includes('production')) continue;
    const last = newest.get(drillKey(plan.service, plan.defaultStrategy)) ?? null;
    if (last !== null && now - last.at <= maxAgeMs) continue;
    stale.push({
      service: plan.service,
      strategy: plan.defaultStrategy,
      last,
      drillable: plan.environments.includes(DRILL_ENVIRONMENT),
    });
  }
  return stale.sort((a, b) => a.service.localeCompare(b.service));
}

/** The sentence `validate` prints for a stale drill. */
export function staleDrillMessage(stale: StaleDrill, maxAgeMs: number = DRILL_MAX_AGE_MS): string {
  const days = Math.round(maxAgeMs / 86_400_000);
  const when = stale.last === null ? 'never drilled' : lastTestedText(stale.last);
  const fix = stale.drillable
    ? `run \`/rollback drill ${stale.service}\``
    : `add ${DRILL_ENVIRONMENT} to spec.environments so it can be drilled`;
  return `production strategy "${stale.strategy}" has not been drilled in the last ${days} days (${when}): ${fix}`;
}
