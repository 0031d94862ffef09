/**
 * Doing a side effect (a Slack post, an SNS publish) once, across replicas and redeliveries. The
 * key is claimed in a store document before the work, so two replicas never both do it; released
 * when the work fails, so a retry may; marked done after it. A claim whose holder died is taken over
 * once it is older than `ONCE_CLAIM_TTL_MS`. Effects come at least once: this makes their outward
 * actions happen once. Claims measure whether a process is alive, so they use the wall clock (as
 * the step leases' TTLs do), not the injected clock of the rollback's timeline.
 *
 * The records do not stay forever: the store expires them the collection's TTL after their last write
 * (collections.ts), so a done action is never done again within that TTL from when it was done.
 */
import type { Docs } from './store.js';

export const ONCE_CLAIM_TTL_MS = 30_000;

/** `{ at }` alone is a record written before claims existed: done. */
interface OnceRecord {
  at: number;
  done?: boolean;
}

/**
 * `ran`: this caller did the work; `done`: it was done before; `busy`: another caller holds a fresh
 * claim (it may still fail: a caller that must not lose the work retries later); `skipped`: the
 * work found nothing to do yet (the claim is released, a later call may do it).
 */
export type OnceResult = 'ran' | 'done' | 'busy' | 'skipped';

/** Claims `key`; the claim's version when this caller holds it now. */
export async function claimOnce(
  store: Docs,
  collection: string,
  key: string,
): Promise<{ version: number } | 'done' | 'busy'> {
  const now = Date.now();
  const held = await store.getDoc<OnceRecord>(collection, key);
  if (held === null) {
    return (await store.putDoc<OnceRecord>(collection, key, { at: now, done: false }, 0))
      ? { version: 1 }
      : 'busy';
  }
  if (held.value.done !== false) return 'done';
  if (now - held.value.at <= ONCE_CLAIM_TTL_MS) return 'busy';
  return (await store.putDoc<OnceRecord>(collection, key, { at: now, done: false }, held.version))
    ? { version: held.version + 1 }
    : 'busy';
}

/** Lets a retry claim `key` again (the work failed). */
export async function releaseOnce(store: Docs, collection: string, key: string): Promise<void> {
  await store.deleteDoc(collection, key);
}

/** Marks the claimed `key` done; false if a takeover replaced the claim meanwhile. */
export function markDone(
  store: Docs,
  collection: string,
  key: string,
  claim: { version: number },
): Promise<boolean> {
  return store.putDoc<OnceRecord>(collection, key, { at: Date.now(), done: true }, claim.version);
}

/**
 * Claims, works, marks done. Work that answers `false` did nothing (yet): the claim is released.
 * On failure the claim is released and the error rethrown.
 */
export async function doOnce(
  store: Docs,
  collection: string,
  key: string,
  work: () => Promise<boolean | undefined>,
): Promise<OnceResult> {
  const claim = await claimOnce(store, collection, key);
  if (claim === 'done' || claim === 'busy') return claim;
  let did: boolean | undefined;
  try {
    did = await work();
  } catch (error) {
    await releaseOnce(store, collection, key).catch(() => undefined);
    throw error;
  }
  if (did === false) {
    await releaseOnce(store, collection, key);
    return 'skipped';
  }
  await markDone(store, collection, key, claim);
  return 'ran';
}
