/**
 * The fan-out of a `notify` effect: stakeholders hear of it even when the thread could not be told
 * (whose error still reaches the outbox, for a retry), stakeholder messages that could not be kept
 * fail the effect too, one rollback's notices are handled one after another while other
 * rollbacks' go on, and a notice waiting for Slack holds its rollback's later notices back, on
 * whichever replica they come.
 */
import { describe, expect, it } from 'vitest';
import { HOLD_MS, NoticeHeldError, noticeFanout } from '../../../src/app/notice-fanout.js';
import { OwedNotices } from '../../../src/app/owed-notices.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { RollbackError } from '../../../src/lib/errors.js';
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
/** What is owed, kept in a store as every replica would share it. */
const owedIn = (store: MemoryStore) => new OwedNotices({ store, lapseMs: HOLD_MS });
const context = { signal: new AbortController().signal, deliveries: 1, keepAlive: () => Promise.resolve() };

/** A Slack thread that refuses every post (retryable) until `back()`, then records what it posts. */
function flakySlack() {
  const slack = { away: true, posted: [] as string[] };
  const thread: EffectHandler = (e) => {
    if (slack.away) {
      return Promise.reject(
        new RollbackError({ code: 'slack_unavailable', userMessage: 'Slack is away', retryable: true }),
      );
    }
    slack.posted.push(e.id);
    return Promise.resolve();
  };
  return { thread, posted: slack.posted, back: () => (slack.away = false) };
}

/** The fan-out over `thread`, telling no stakeholders, its owed notices in `store`. */
const fanout = (thread: EffectHandler, store = new MemoryStore()) =>
  noticeFanout({
    thread,
    stakeholders: () => Promise.resolve(),
    rollbackOf,
    after: () => Promise.resolve(),
    owed: owedIn(store),
    log: silentLogger,
  });

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
      owed: owedIn(new MemoryStore()),
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
      owed: owedIn(new MemoryStore()),
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
      owed: owedIn(new MemoryStore()),
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

  it('holds a rollback’s later notices behind one waiting for Slack, until it got through', async () => {
    const slack = flakySlack();
    const posted = slack.posted;
    const handle = fanout(slack.thread);
    await expect(handle(effect('rb-1', 3, 'authorized'), context)).rejects.toThrow('Slack is away');
    slack.back();
    // Slack is back, but the later notices of rb-1 wait for the one that failed; rb-2 does not.
    await expect(handle(effect('rb-1', 4, 'step-started'), context)).rejects.toBeInstanceOf(NoticeHeldError);
    await handle(effect('rb-2', 1, 'declared'), context);
    // The outbox retries the first one: it goes through, and the later ones follow it.
    await handle(effect('rb-1', 3, 'authorized'), context);
    await handle(effect('rb-1', 4, 'step-started'), context);
    expect(posted).toEqual(['rb-2:1:0', 'rb-1:3:0', 'rb-1:4:0']);
  });

  it('a held notice is owed too: the later ones wait for it, whatever order the retries come in', async () => {
    const slack = flakySlack();
    const posted = slack.posted;
    const handle = fanout(slack.thread);
    await expect(handle(effect('rb-1', 3, 'authorized'), context)).rejects.toThrow('Slack is away');
    await expect(handle(effect('rb-1', 4, 'step-started'), context)).rejects.toBeInstanceOf(NoticeHeldError);
    await expect(handle(effect('rb-1', 5, 'step-succeeded'), context)).rejects.toBeInstanceOf(
      NoticeHeldError,
    );
    slack.back();
    await handle(effect('rb-1', 3, 'authorized'), context);
    // The outbox's retries fall due out of order: 5 comes back before 4, and waits for it.
    await expect(handle(effect('rb-1', 5, 'step-succeeded'), context)).rejects.toBeInstanceOf(
      NoticeHeldError,
    );
    await handle(effect('rb-1', 4, 'step-started'), context);
    await handle(effect('rb-1', 5, 'step-succeeded'), context);
    expect(posted).toEqual(['rb-1:3:0', 'rb-1:4:0', 'rb-1:5:0']);
  });

  it('another replica holds the later notices too: what is owed is in the store', async () => {
    const slack = flakySlack();
    const posted = slack.posted;
    const store = new MemoryStore();
    const [a, b] = [fanout(slack.thread, store), fanout(slack.thread, store)];
    await expect(a(effect('rb-1', 3, 'authorized'), context)).rejects.toThrow('Slack is away');
    slack.back();
    await expect(b(effect('rb-1', 4, 'step-started'), context)).rejects.toBeInstanceOf(NoticeHeldError);
    // B retries what A saw fail; then A takes the held one.
    await b(effect('rb-1', 3, 'authorized'), context);
    await a(effect('rb-1', 4, 'step-started'), context);
    expect(posted).toEqual(['rb-1:3:0', 'rb-1:4:0']);
  });

  it('a refusal for good holds nothing back', async () => {
    const posted: string[] = [];
    const handle = noticeFanout({
      thread: (e) => {
        if (e.version === 3) return Promise.reject(new Error('thread_not_found'));
        posted.push(e.id);
        return Promise.resolve();
      },
      stakeholders: () => Promise.resolve(),
      rollbackOf,
      after: () => Promise.resolve(),
      owed: owedIn(new MemoryStore()),
      log: silentLogger,
    });
    await expect(handle(effect('rb-1', 3, 'authorized'), context)).rejects.toThrow('thread_not_found');
    await handle(effect('rb-1', 4, 'step-started'), context);
    expect(posted).toEqual(['rb-1:4:0']);
  });
});
