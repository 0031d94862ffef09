/**
 * The fan-out of a `notify` effect: stakeholders hear of it even when the thread could not be told
 * (whose error still reaches the outbox, for a retry), stakeholder messages that could not be kept
 * fail the effect too, and one rollback's notices are handled one after another while other
 * rollbacks' go on.
 */
import { describe, expect, it } from 'vitest';
import { noticeFanout } from '../../../src/app/notice-fanout.js';
import type { EffectHandler } from '../../../src/engine/outbox-worker.js';
import { silentLogger } from '../../../src/lib/logging.js';
import type { OutboxEffect, StoredRollback } from '../../../src/store/store.js';
import { T0 } from '../../support/domain-fixtures.js';

const effect = (rollbackId: string, n: number, event: string): OutboxEffect => ({
  id: `${rollbackId}:${n}:0`,
  rollbackId,
  version: n,
  kind: 'notify',
  payload: { event },
  createdAt: T0,
});
/** The rollback at the effect's version, as the read model would hand it. */
const rollbackOf = (e: OutboxEffect) =>
  Promise.resolve({ rollback: { id: e.rollbackId, version: e.version } as StoredRollback });
const context = { signal: new AbortController().signal, deliveries: 1 };

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('noticeFanout', () => {
  it('tells stakeholders when the thread fails, then rethrows the thread error', async () => {
    const heard: string[] = [];
    const after: string[] = [];
    const handle = noticeFanout({
      thread: () => Promise.reject(new Error('thread_not_found')),
      stakeholders: (e) => {
        heard.push(e.id);
        return Promise.resolve();
      },
      rollbackOf,
      after: (rollback) => {
        after.push(`${rollback.id}@${rollback.version}`);
        return Promise.resolve();
      },
      log: silentLogger,
    });
    await expect(handle(effect('rb-1', 1, 'declared'), context)).rejects.toThrow('thread_not_found');
    expect(heard).toEqual(['rb-1:1:0']);
    expect(after).toEqual([]);
  });

  it('stakeholder messages that could not be kept fail the effect (retried), after what follows ran', async () => {
    const after: string[] = [];
    const handle = noticeFanout({
      thread: () => Promise.resolve(),
      stakeholders: () => Promise.reject(new Error('state store unavailable')),
      rollbackOf,
      after: (rollback) => {
        after.push(`${rollback.id}@${rollback.version}`);
        return Promise.resolve();
      },
      log: silentLogger,
    });
    await expect(handle(effect('rb-1', 1, 'resolved'), context)).rejects.toThrow('state store unavailable');
    expect(after).toEqual(['rb-1@1']);
  });

  it("handles one rollback's notices in order, other rollbacks' alongside", async () => {
    const log: string[] = [];
    const slow = deferred();
    const thread: EffectHandler = async (e) => {
      log.push(`thread ${e.id}`);
      if (e.id === 'rb-1:1:0') await slow.promise;
    };
    const handle = noticeFanout({
      thread,
      stakeholders: (e) => {
        log.push(`stakeholders ${e.id}`);
        return Promise.resolve();
      },
      rollbackOf,
      after: () => Promise.resolve(),
      log: silentLogger,
    });
    // The outbox runs effects concurrently: validation-passed is slow, resolved comes right after.
    const first = handle(effect('rb-1', 1, 'validation-passed'), context);
    const second = handle(effect('rb-1', 2, 'resolved'), context);
    const other = handle(effect('rb-2', 1, 'declared'), context);
    await other;
    expect(log).toEqual(['thread rb-1:1:0', 'thread rb-2:1:0', 'stakeholders rb-2:1:0']);
    slow.resolve();
    await Promise.all([first, second]);
    expect(log.filter((line) => line.includes('rb-1'))).toEqual([
      'thread rb-1:1:0',
      'stakeholders rb-1:1:0',
      'thread rb-1:2:0',
      'stakeholders rb-1:2:0',
    ]);
  });
});
