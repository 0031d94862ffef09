/**
 * What the bot knows that a request could change, as one comparable string: every rollback (id,
 * version, state) and the documents of the collections that hold state (freezes, bad versions,
 * drills, incidents) with their versions. Bookkeeping (delivery and click markers, Slack message
 * addresses, once-records) is left out: a refused request may leave those, it changes nothing.
 */
import { COLLECTIONS } from '../../src/store/collections.js';
import type { Store } from '../../src/store/store.js';

const STATE_COLLECTIONS = [
  COLLECTIONS.freezes,
  COLLECTIONS.badVersions,
  COLLECTIONS.drills,
  COLLECTIONS.incidents,
  COLLECTIONS.incidentCurrent,
] as const;

export async function stateFingerprint(store: Store): Promise<string> {
  const rollbacks = await store.listRollbacks();
  const docs = await Promise.all(
    STATE_COLLECTIONS.map(async (collection) =>
      (await store.listDocs(collection)).map((doc) => `${collection}/${doc.key}@${doc.version}`),
    ),
  );
  return [...rollbacks.map((r) => `rollback/${r.id}@${r.version}:${r.state}`), ...docs.flat()].join('\n');
}

/** The fingerprint once it has stopped changing (the effects of an accepted request have run). */
export async function settledFingerprint(store: Store, quietMs = 150, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = await stateFingerprint(store);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = await stateFingerprint(store);
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}
