/**
 * Changing one stored document with optimistic retries, as every writer of a shared document does:
 * read it with its version, compute the new value, write it only if nobody wrote in between, else
 * read again. Two replicas changing one document never lose each other's change.
 */
import type { Docs } from './store.js';

/**
 * `change` sees the stored value (null when there is none) and answers the new one, or null to
 * leave it as it is. Answers what is stored afterwards. Throws after `tries` conflicting writes.
 */
export async function changeDoc<T>(
  store: Pick<Docs, 'getDoc' | 'putDoc'>,
  collection: string,
  key: string,
  change: (current: T | null) => T | null,
  tries = 50,
): Promise<T | null> {
  for (let attempt = 0; attempt < tries; attempt += 1) {
    const stored = await store.getDoc<T>(collection, key);
    const next = change(stored?.value ?? null);
    if (next === null) return stored?.value ?? null;
    if (await store.putDoc<T>(collection, key, next, stored?.version ?? 0)) return next;
  }
  throw new Error(`${collection} ${key} kept changing under ${tries} writes`);
}
