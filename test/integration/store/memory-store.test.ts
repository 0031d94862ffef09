import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
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
