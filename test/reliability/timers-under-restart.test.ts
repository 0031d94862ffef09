/**
 * A replica dies at the moment an approval reminder or the approval's expiry falls due, and a new
 * one takes over (real Redis, the real engine runtime, a clock the test moves). Two crash points:
 * the timer claimed and nothing more done (the process died before firing it), and the timer fired
 * (its transition committed) but not acknowledged. Either way the reminder and the expiry each
 * happen exactly once: a claimed timer comes back when its claim lapses, and a timer that already
 * fired is dropped by the machine as stale.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxEffect } from '../../src/store/store.js';
import { createRedisStore, type RedisStore } from '../../src/store/redis/redis-store.js';
import { MINUTE, T0, USERS } from '../support/domain-fixtures.js';
import { commandRollback, startHarness, type Harness } from '../support/engine-harness.js';
import { deleteKeysWithPrefix } from '../support/redis-cleanup.js';

const url = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** The timer poller's claim: a claimed timer nobody acknowledged is due again this long after. */
const CLAIM_MS = 30_000;
const REMINDER_AT = T0 + 5 * MINUTE;
const EXPIRY_AT = T0 + 2 * 60 * MINUTE;

let store: RedisStore | undefined;
let prefix = '';
const running: Harness[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((harness) => harness.runtime.stop(1_000)));
  await store?.close();
  const admin = new Redis(url);
  await deleteKeysWithPrefix(admin, prefix);
  await admin.quit();
});

async function declaredThenGone(id: string): Promise<RedisStore> {
  prefix = `rollback-bot-test:timers:${randomBytes(4).toString('hex')}`;
  store = await createRedisStore({ url, prefix });
  const first = startHarness(store);
  const input = commandRollback(id);
  expect((await first.runtime.engine.declare(input, input, T0, USERS.declarer)).ok).toBe(true);
  // Its notices are delivered before it goes: only what is said after the crash is counted.
  await expect.poll(() => first.notices.length, { timeout: 5_000 }).toBeGreaterThan(0);
  await first.runtime.stop(1_000);
  return store;
}

function takeOver(at: number): Harness {
  const next = startHarness(store!);
  running.push(next);
  next.clock.now = at;
  next.runtime.timers.nudge();
  return next;
}

const said = (notices: OutboxEffect[], event: string): number =>
  notices.filter((notice) => notice.payload['event'] === event).length;

const settle = (ms = 500): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('timers when a replica dies as they fall due (real Redis)', () => {
  it('a reminder claimed by a replica that died fires once, when the claim lapses', async () => {
    const id = 'rb-remind';
    const redis = await declaredThenGone(id);
    // The dying replica's poller claimed the due reminder, then the process was gone.
    const claimed = await redis.claimDueTimers(REMINDER_AT, { limit: 10, visibilityMs: CLAIM_MS });
    expect(claimed.map((timer) => timer.timer)).toEqual(['reminder']);

    const next = takeOver(REMINDER_AT);
    await settle();
    expect(said(next.notices, 'reminder')).toBe(0); // still claimed by the dead replica

    next.clock.now = REMINDER_AT + CLAIM_MS + 1_000;
    next.runtime.timers.nudge();
    await expect.poll(() => said(next.notices, 'reminder'), { timeout: 5_000 }).toBe(1);
    await settle();
    expect(said(next.notices, 'reminder')).toBe(1);
    expect((await redis.readAudit(id)).filter((entry) => entry.event === 'TIMER')).toHaveLength(1);
  });

  it('an expiry fired by a replica that died before acknowledging it is not fired again', async () => {
    const id = 'rb-expire';
    const redis = await declaredThenGone(id);
    // The dying replica fired every timer due at the expiry (its transitions committed), and died
    // before acknowledging any: they come back to the next replica when the claim lapses.
    const claimed = await redis.claimDueTimers(EXPIRY_AT, { limit: 10, visibilityMs: CLAIM_MS });
    expect(claimed.map((timer) => timer.timer)).toContain('expire');
    const dying = startHarness(redis);
    await dying.runtime.stop(1_000);
    for (const timer of claimed) {
      await dying.runtime.engine.dispatch(timer.rollbackId, {
        type: 'TIMER',
        timer: timer.timer,
        seq: timer.seq,
        at: EXPIRY_AT,
        by: 'system',
      });
    }
    const firedBefore = (await redis.readAudit(id)).filter((entry) => entry.event === 'TIMER').length;
    expect((await redis.getRollback(id))?.state).toBe('cancelled');

    const next = takeOver(EXPIRY_AT + CLAIM_MS + 1_000);
    // The outbox delivers what the dead replica committed: the expiry is said once.
    await expect.poll(() => said(next.notices, 'expired'), { timeout: 5_000 }).toBe(1);
    // The new replica takes the lapsed claims back (none is due at its clock any more).
    await expect
      .poll(async () => (await redis.nextTimerDueAt()) ?? Infinity, { timeout: 5_000 })
      .toBeGreaterThan(next.clock.now);
    await settle();
    expect(said(next.notices, 'expired')).toBe(1);
    // The timers fired again by the new replica were dropped as stale: no new transition.
    expect((await redis.readAudit(id)).filter((entry) => entry.event === 'TIMER')).toHaveLength(firedBefore);
  });
});
