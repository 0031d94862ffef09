/**
 * The read model keeps the newest record of each rollback committed in this process, so what is
 * shown right after a commit costs no read; a reader that needs a version this process has not
 * seen (another replica committed) reads the store, and so does one that names no version.
 */
import { describe, expect, it } from 'vitest';
import { RollbackReads } from '../../../src/app/rollback-reads.js';
import type { RollbackInput } from '../../../src/domain/rollback-types.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollbackDecider } from '../../../src/engine/rollback-decider.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import type { Store } from '../../../src/store/store.js';
import { MINUTE, ROLES, T0, USERS, rollbackInput } from '../../support/domain-fixtures.js';

/** A store that counts the reads the read model makes. */
function countingStore(): { store: Store; storeReads: () => number } {
  const inner = new MemoryStore();
  let reads = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'getRollback' || property === 'readAudit') reads += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, storeReads: () => reads };
}

function setup() {
  const counted = countingStore();
  const reads = new RollbackReads({ store: counted.store, now: () => T0 + MINUTE });
  const engine = new Engine<RollbackInput>({
    store: counted.store,
    decider: rollbackDecider,
    log: silentLogger,
  });
  // A second replica: same store, its commits are not heard here.
  const elsewhere = new Engine<RollbackInput>({
    store: counted.store,
    decider: rollbackDecider,
    log: silentLogger,
  });
  engine.onCommitted(reads.committed);
  return { ...counted, reads, engine, elsewhere };
}

const identity = { id: 'rb-1', service: 'checkout', environment: 'production' };
const approve = { type: 'APPROVE', by: USERS.oncall, roles: ROLES.oncall, at: T0 + MINUTE } as const;

describe('RollbackReads', () => {
  it('shows a commit made here at its version without reading the store', async () => {
    const h = setup();
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    const approved = await h.engine.dispatch('rb-1', approve);
    expect(approved.ok).toBe(true);
    const before = h.storeReads();
    const view = await h.reads.view('rb-1', 2);
    expect(h.storeReads()).toBe(before);
    expect(view?.state).toBe('authorized');
    expect(view?.approvals.map((a) => a.user)).toEqual([USERS.oncall]);
    expect(view?.timeline.map((entry) => entry.event)).toEqual(['DECLARE', 'APPROVE']);
  });

  it('reads again when another replica committed a version not seen here', async () => {
    const h = setup();
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await h.elsewhere.dispatch('rb-1', approve);
    const before = h.storeReads();
    const view = await h.reads.view('rb-1', 2);
    expect(h.storeReads()).toBeGreaterThan(before);
    expect(view?.state).toBe('authorized');
    // A later commit here does not stitch its audit onto the stale copy: the gap drops it.
    await h.engine.dispatch('rb-1', {
      type: 'CANCEL',
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: T0 + 2 * MINUTE,
    });
    const record = await h.reads.record('rb-1', 3);
    expect(record?.rollback.version).toBe(3);
    expect(record?.audit.map((entry) => entry.version)).toEqual([1, 2, 3]);
  });

  it('reads the store when no version is named (the API, /rollback status)', async () => {
    const h = setup();
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    const before = h.storeReads();
    await h.reads.view('rb-1');
    expect(h.storeReads()).toBe(before + 2);
  });
});
