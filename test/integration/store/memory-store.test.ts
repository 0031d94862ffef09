import { describe, expect, it } from 'vitest';
import { COLLECTION_INFO, COLLECTIONS, type Collection } from '../../../src/store/collections.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { doOnce } from '../../../src/store/once.js';
import { describeStoreContract } from '../../support/store-contract.js';
import { commitOf, effectFor, rollbackAt } from '../../support/store-contract/fixtures.js';

describeStoreContract('memory', async () => {
  await Promise.resolve();
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore with an injected clock', () => {
  const clocked = (): { store: MemoryStore; advance: (ms: number) => void } => {
    let now = 1_000_000;
    return {
      store: new MemoryStore({ now: () => now }),
      advance: (ms) => {
        now += ms;
      },
    };
  };

  it('expires leases and remembered keys by the injected clock, not the wall clock', async () => {
    const { store, advance } = clocked();
    expect(await store.acquireLease('rb-1', 'a', 60_000)).toBe(1);
    expect(await store.rememberOnce('event-1', 60_000)).toBe(true);
    advance(59_999);
    expect(await store.leaseHolder('rb-1')).toBe('a');
    expect(await store.rememberOnce('event-1', 60_000)).toBe(false);
    advance(1);
    expect(await store.leaseHolder('rb-1')).toBeNull();
    expect(await store.acquireLease('rb-1', 'b', 60_000)).toBe(2);
    expect(await store.rememberOnce('event-1', 60_000)).toBe(true);
  });

  const expiring = Object.entries(COLLECTION_INFO).flatMap(([name, info]) =>
    info.ttlMs === null ? [] : [{ collection: name as Collection, ttlMs: info.ttlMs }],
  );

  it.each(expiring)(
    'keeps a done once-record of $collection for its TTL after it was done, then forgets it',
    async ({ collection, ttlMs }) => {
      const { store, advance } = clocked();
      let runs = 0;
      const work = (): Promise<boolean> => {
        runs += 1;
        advance(5_000); // the work takes a while: the TTL counts from when it was done
        return Promise.resolve(true);
      };
      expect(await doOnce(store, collection, 'effect-1', work)).toBe('ran');
      advance(ttlMs - 1);
      expect(await doOnce(store, collection, 'effect-1', work)).toBe('done');
      expect(runs).toBe(1);
      expect(await store.getDoc(collection, 'effect-1')).not.toBeNull();
      advance(1);
      expect(await store.getDoc(collection, 'effect-1')).toBeNull();
      expect(await store.putDoc(collection, 'effect-1', { again: true }, 0)).toBe(true);
      expect((await store.getDoc(collection, 'effect-1'))?.version).toBe(1);
    },
  );

  it('starts the TTL again at every write, and never expires a collection without one', async () => {
    const { store, advance } = clocked();
    const ttlMs = COLLECTION_INFO[COLLECTIONS.statuspageIncidents].ttlMs!;
    await store.putDoc(COLLECTIONS.statuspageIncidents, 'rb-1', { phase: 'authorized' }, 0);
    await store.putDoc(COLLECTIONS.freezes, 'svc', { on: true }, 0);
    advance(ttlMs - 1_000);
    await store.putDoc(COLLECTIONS.statuspageIncidents, 'rb-1', { phase: 'executing' }, 1);
    advance(ttlMs - 1);
    expect(await store.getDoc(COLLECTIONS.statuspageIncidents, 'rb-1')).toEqual({
      version: 2,
      value: { phase: 'executing' },
    });
    advance(1);
    expect(await store.getDoc(COLLECTIONS.statuspageIncidents, 'rb-1')).toBeNull();
    advance(10 * 365 * 24 * 3_600_000);
    expect(await store.getDoc(COLLECTIONS.freezes, 'svc')).toEqual({ version: 1, value: { on: true } });
    expect(await store.listDocs(COLLECTIONS.freezes)).toHaveLength(1);
  });

  it('measures effect idle time with the injected clock', async () => {
    const { store, advance } = clocked();
    await store.commit(commitOf(rollbackAt('rb-1', 1), { effects: [effectFor('rb-1', 1, 0)] }));
    await store.readEffects('dead', { count: 1 });
    advance(29_999);
    expect(await store.reclaimEffects('rescuer', { minIdleMs: 30_000, count: 1 })).toEqual([]);
    advance(1);
    const [reclaimed] = await store.reclaimEffects('rescuer', { minIdleMs: 30_000, count: 1 });
    expect(reclaimed?.deliveries).toBe(2);
  });

  it('hands back copies: mutating a returned value changes nothing stored', async () => {
    const store = new MemoryStore();
    const rollback = rollbackAt('rb-1', 1);
    await store.commit(commitOf(rollback));
    const read = await store.getRollback('rb-1');
    read!.state = 'tampered';
    expect((await store.getRollback('rb-1'))?.state).toBe(rollback.state);
  });
});
