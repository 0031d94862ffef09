/**
 * Reads rollbacks for the record (history, KPIs, post-mortems): their contexts and audit trails.
 * The store has no time index, so a bounded number of the newest rollbacks is read.
 */
import type { RecordedRollback } from '../domain/rollback-record.js';
import type { RollbackReader } from '../store/store.js';
import { contextOf } from './rollback-view.js';

/** Enough for 30 days at several rollbacks a day; older ones fall out of the figures. */
export const RECORD_READ_LIMIT = 1_000;

export async function readRecords(
  store: Pick<RollbackReader, 'listRollbacks'>,
  filter: { service?: string; limit?: number } = {},
): Promise<RecordedRollback[]> {
  const rollbacks = await store.listRollbacks({
    ...(filter.service === undefined ? {} : { service: filter.service }),
    limit: filter.limit ?? RECORD_READ_LIMIT,
  });
  return rollbacks.map((r) => ({ id: r.id, state: r.state, context: contextOf(r) }));
}
