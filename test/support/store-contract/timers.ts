import { describe, expect, it } from 'vitest';
import type { TimerRecord } from '../../../src/store/store.js';
import { commitOf, newId, rollbackAt, timerFor, type GetStore } from './fixtures.js';

const T0 = 1_700_000_000_000;

export function describeTimerContract(store: GetStore): void {
  async function schedule(id: string, timers: TimerRecord[]): Promise<void> {
    const result = await store().commit(commitOf(rollbackAt(id, 1), { timers }));
    expect(result.ok).toBe(true);
  }

  describe('timers', () => {
    it('claims a timer once it is due, hides it while claimed, returns it if not acknowledged', async () => {
      const id = newId();
      const timer = timerFor(id, 'escalate', 3, T0 + 1_000);
      await schedule(id, [timer]);
      const claim = (now: number): Promise<TimerRecord[]> =>
        store().claimDueTimers(now, { limit: 10, visibilityMs: 500 });
      expect(await claim(T0 + 999)).toEqual([]);
      expect(await claim(T0 + 1_000)).toEqual([timer]);
      expect(await claim(T0 + 1_400)).toEqual([]);
      expect(await claim(T0 + 1_500)).toEqual([timer]); // the claimer died: back, with its original dueAt
      await store().ackTimer(timer);
      expect(await claim(T0 + 10_000)).toEqual([]);
      expect(await store().nextTimerDueAt()).toBeNull();
    });

    it('gives each due timer to exactly one of two concurrent claimers', async () => {
      const timers: TimerRecord[] = [];
      for (let n = 0; n < 20; n += 1) {
        const id = newId();
        const own = [timerFor(id, 'a', 1, T0 + n), timerFor(id, 'b', 2, T0 + n)];
        timers.push(...own);
        await schedule(id, own);
      }
      const claimer = async (): Promise<TimerRecord[]> => {
        const claimed: TimerRecord[] = [];
        for (;;) {
          const batch = await store().claimDueTimers(T0 + 100, { limit: 3, visibilityMs: 60_000 });
          if (batch.length === 0) return claimed;
          claimed.push(...batch);
        }
      };
      const [first, second] = await Promise.all([claimer(), claimer()]);
      const key = (t: TimerRecord): string => `${t.rollbackId}/${t.timer}`;
      const all = [...first, ...second].map(key).sort();
      expect(all).toEqual(timers.map(key).sort());
    });

    it('claims at most `limit` timers, earliest first within a call', async () => {
      const id = newId();
      const timers = [5, 1, 3, 2, 4].map((n) => timerFor(id, `t${n}`, n, T0 + n));
      await schedule(id, timers);
      const batch = await store().claimDueTimers(T0 + 10, { limit: 3, visibilityMs: 1_000 });
      expect(batch.map((timer) => timer.timer)).toEqual(['t1', 't2', 't3']);
      const rest = await store().claimDueTimers(T0 + 10, { limit: 3, visibilityMs: 1_000 });
      expect(rest.map((timer) => timer.timer)).toEqual(['t4', 't5']);
    });

    it('keeps timers of the same name with different sequence numbers apart', async () => {
      const id = newId();
      const stale = timerFor(id, 'stabilise', 1, T0);
      const current = timerFor(id, 'stabilise', 2, T0 + 5);
      await schedule(id, [stale, current]);
      expect(await store().claimDueTimers(T0 + 10, { limit: 10, visibilityMs: 100 })).toEqual([
        stale,
        current,
      ]);
      await store().ackTimer(stale);
      expect(await store().claimDueTimers(T0 + 200, { limit: 10, visibilityMs: 100 })).toEqual([current]);
    });

    it('reports the earliest due time, including claimed timers coming back', async () => {
      expect(await store().nextTimerDueAt()).toBeNull();
      const first = newId();
      const second = newId();
      await schedule(first, [timerFor(first, 'x', 1, T0 + 300)]);
      await schedule(second, [timerFor(second, 'y', 1, T0 + 100)]);
      expect(await store().nextTimerDueAt()).toBe(T0 + 100);
      await store().claimDueTimers(T0 + 100, { limit: 10, visibilityMs: 1_000 });
      expect(await store().nextTimerDueAt()).toBe(T0 + 300);
    });
  });
}
