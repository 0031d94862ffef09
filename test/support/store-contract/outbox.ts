import { describe, expect, it } from 'vitest';
import type { EffectDelivery } from '../../../src/store/store.js';
import { commitOf, effectFor, newId, rollbackAt, sleep, type GetStore } from './fixtures.js';

/** Long enough that two consecutive calls on a loaded machine stay well inside it. */
const IDLE_MS = 150;

const ids = (deliveries: EffectDelivery[]): string[] => deliveries.map((delivery) => delivery.effect.id);

export function describeOutboxContract(store: GetStore): void {
  async function emit(id: string, count: number): Promise<void> {
    const effects = Array.from({ length: count }, (_, n) => effectFor(id, 1, n));
    const result = await store().commit(commitOf(rollbackAt(id, 1), { effects }));
    expect(result.ok).toBe(true);
  }

  describe('outbox effects', () => {
    it('delivers each committed effect once, in commit order, to one consumer', async () => {
      const id = newId();
      await emit(id, 3);
      const first = await store().readEffects('worker-a', { count: 10 });
      expect(ids(first)).toEqual([`${id}:1:0`, `${id}:1:1`, `${id}:1:2`]);
      expect(first.map((delivery) => delivery.deliveries)).toEqual([1, 1, 1]);
      expect(first[0]?.effect).toEqual(effectFor(id, 1, 0));
      expect(await store().readEffects('worker-b', { count: 10 })).toEqual([]);
      expect(await store().readEffects('worker-a', { count: 10 })).toEqual([]);
    });

    it('hands out at most `count` effects per read', async () => {
      const id = newId();
      await emit(id, 5);
      const batches = [
        await store().readEffects('worker', { count: 2 }),
        await store().readEffects('worker', { count: 2 }),
        await store().readEffects('worker', { count: 2 }),
      ];
      expect(batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
      expect(batches.flatMap(ids)).toEqual(Array.from({ length: 5 }, (_, n) => `${id}:1:${n}`));
    });

    it('redelivers an unacknowledged effect after the idle time, counting deliveries', async () => {
      const id = newId();
      await emit(id, 1);
      const [first] = await store().readEffects('dead-worker', { count: 1 });
      expect(first?.deliveries).toBe(1);
      expect(await store().reclaimEffects('rescuer', { minIdleMs: 60_000, count: 10 })).toEqual([]);
      await sleep(IDLE_MS + 50);
      const second = await store().reclaimEffects('rescuer', { minIdleMs: IDLE_MS, count: 10 });
      expect(ids(second)).toEqual([`${id}:1:0`]);
      expect(second[0]?.deliveries).toBe(2);
      expect(second[0]?.effect).toEqual(first?.effect);
      // Reclaiming made it busy again: nobody else may take it before it idles once more.
      expect(await store().reclaimEffects('another', { minIdleMs: IDLE_MS, count: 10 })).toEqual([]);
      await sleep(IDLE_MS + 50);
      const third = await store().reclaimEffects('another', { minIdleMs: IDLE_MS, count: 10 });
      expect(third[0]?.deliveries).toBe(3);
      expect(await store().readEffects('fresh', { count: 10 })).toEqual([]);
    });

    it('leaves a kept effect with its worker, its delivery count unchanged, until it is kept no more', async () => {
      const id = newId();
      await emit(id, 1);
      const [running] = await store().readEffects('long-step', { count: 1 });
      for (let beat = 0; beat < 3; beat += 1) {
        await sleep(IDLE_MS / 2);
        await store().keepEffect('long-step', running!);
      }
      // Longer than the idle time since it was read, but kept meanwhile: not a dead worker's.
      expect(await store().reclaimEffects('rescuer', { minIdleMs: IDLE_MS, count: 10 })).toEqual([]);
      await sleep(IDLE_MS + 50);
      const [reclaimed] = await store().reclaimEffects('rescuer', { minIdleMs: IDLE_MS, count: 10 });
      expect(reclaimed?.effect.id).toBe(`${id}:1:0`);
      expect(reclaimed?.deliveries).toBe(2);
    });

    it('never delivers an acknowledged effect again', async () => {
      const id = newId();
      await emit(id, 2);
      const delivered = await store().readEffects('worker', { count: 10 });
      await store().ackEffect(delivered[0]!);
      await sleep(30);
      const reclaimed = await store().reclaimEffects('rescuer', { minIdleMs: 0, count: 10 });
      expect(ids(reclaimed)).toEqual([`${id}:1:1`]);
      await store().ackEffect(reclaimed[0]!);
      await store().ackEffect(delivered[1]!); // the first holder, late: harmless
      await sleep(30);
      expect(await store().reclaimEffects('rescuer', { minIdleMs: 0, count: 10 })).toEqual([]);
      expect(await store().readEffects('worker', { count: 10 })).toEqual([]);
    });

    it('reclaims at most `count` effects', async () => {
      const id = newId();
      await emit(id, 4);
      await store().readEffects('dead-worker', { count: 10 });
      const first = await store().reclaimEffects('rescuer', { minIdleMs: 0, count: 3 });
      expect(first).toHaveLength(3);
      const second = await store().reclaimEffects('rescuer', { minIdleMs: 0, count: 3 });
      expect(second.length).toBeGreaterThanOrEqual(1);
      expect(second.length).toBeLessThanOrEqual(3);
    });

    it('waits up to blockMs for an effect and wakes as soon as one is committed', async () => {
      const id = newId();
      const started = Date.now();
      const reading = store().readEffects('worker', { count: 10, blockMs: 5_000 });
      await sleep(80);
      await emit(id, 1);
      const delivered = await reading;
      expect(ids(delivered)).toEqual([`${id}:1:0`]);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('returns nothing after blockMs when nothing is committed', async () => {
      const started = Date.now();
      expect(await store().readEffects('worker', { count: 10, blockMs: 250 })).toEqual([]);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(240);
      expect(elapsed).toBeLessThan(2_000);
    });

    it('gives each effect of many rollbacks to exactly one of two concurrent consumers', async () => {
      const rollbacks = Array.from({ length: 30 }, () => newId());
      await Promise.all(rollbacks.map((id) => emit(id, 2)));
      const seen: string[] = [];
      const consume = async (consumer: string): Promise<void> => {
        for (;;) {
          const batch = await store().readEffects(consumer, { count: 7 });
          if (batch.length === 0) return;
          expect(batch.length).toBeLessThanOrEqual(7);
          seen.push(...ids(batch));
          await Promise.all(batch.map((delivery) => store().ackEffect(delivery)));
        }
      };
      await Promise.all([consume('a'), consume('b')]);
      const expected = rollbacks.flatMap((id) => [`${id}:1:0`, `${id}:1:1`]);
      expect([...seen].sort()).toEqual([...expected].sort());
      for (const id of rollbacks) {
        const own = seen.filter((effect) => effect.startsWith(`${id}:`));
        expect(own).toHaveLength(2);
      }
    });
  });
}
