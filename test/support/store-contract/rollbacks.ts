import { describe, expect, it } from 'vitest';
import {
  auditFor,
  commitOf,
  createAt,
  effectFor,
  newId,
  rollbackAt,
  timerFor,
  type GetStore,
} from './fixtures.js';

export function describeRollbackContract(store: GetStore): void {
  describe('commit and read rollbacks', () => {
    it('creates a rollback and reads back exactly what was written', async () => {
      const id = newId();
      const rollback = rollbackAt(id, 1);
      expect(await store().commit(commitOf(rollback))).toEqual({ ok: true });
      expect(await store().getRollback(id)).toEqual(rollback);
    });

    it('keeps the audit head with the version that wrote it, and the chain fields of each entry', async () => {
      const id = newId();
      const first = rollbackAt(id, 1, { auditHash: 'a'.repeat(64) });
      const entry = { ...auditFor(first, 'DECLARE'), prev: 'p'.repeat(64), hash: 'a'.repeat(64) };
      await store().commit(commitOf(first, { audit: [entry] }));
      expect(await store().getRollback(id)).toEqual(first);
      expect(await store().readAudit(id)).toEqual([entry]);
      // A commit without a head (an engine before the audit chain) leaves none behind.
      const second = rollbackAt(id, 2);
      await store().commit(commitOf(second));
      expect(await store().getRollback(id)).toEqual(second);
      expect(await store().getRollback(id)).not.toHaveProperty('auditHash');
    });

    it('answers null and [] for a rollback that does not exist', async () => {
      expect(await store().getRollback(newId('missing'))).toBeNull();
      expect(await store().readAudit(newId('missing'))).toEqual([]);
    });

    it('refuses to create a rollback that exists, and writes nothing of the refused commit', async () => {
      const id = newId();
      const first = rollbackAt(id, 1);
      await store().commit(commitOf(first));
      const again = rollbackAt(id, 1, { state: 'other', service: 'other-service' });
      const result = await store().commit(
        commitOf(again, { effects: [effectFor(id, 1, 0)], timers: [timerFor(id, 'reminder', 1, 5)] }),
      );
      expect(result).toEqual({ ok: false, reason: 'version_conflict', currentVersion: 1 });
      expect(await store().getRollback(id)).toEqual(first);
      expect(await store().readAudit(id)).toHaveLength(1);
      expect(await store().readEffects('worker', { count: 10 })).toEqual([]);
      expect(await store().claimDueTimers(10, { limit: 10, visibilityMs: 1_000 })).toEqual([]);
      expect(await store().listRollbacks({ service: 'other-service' })).toEqual([]);
    });

    it('accepts the next version and refuses stale or future versions with the current one', async () => {
      const id = newId();
      await createAt(store(), id, 2);
      for (const expectedVersion of [0, 1, 3, 7]) {
        const result = await store().commit(commitOf(rollbackAt(id, expectedVersion + 1)));
        expect(result).toEqual({ ok: false, reason: 'version_conflict', currentVersion: 2 });
      }
      const third = rollbackAt(id, 3, { state: 'validating' });
      expect(await store().commit(commitOf(third))).toEqual({ ok: true });
      expect(await store().getRollback(id)).toEqual(third);
    });

    it('lets exactly one of 50 concurrent commits with the same expected version win', async () => {
      const id = newId();
      await createAt(store(), id, 1);
      const contenders = Array.from({ length: 50 }, (_, n) =>
        commitOf(rollbackAt(id, 2, { state: `state-${n}` }), {
          effects: [effectFor(id, 2, n)],
          timers: [timerFor(id, `timer-${n}`, 1, 100)],
        }),
      );
      const results = await Promise.all(contenders.map((commit) => store().commit(commit)));
      const winners = results.flatMap((result, n) => (result.ok ? [n] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      for (const result of results) {
        if (!result.ok) expect(result.currentVersion).toBe(2);
      }
      const stored = await store().getRollback(id);
      expect(stored?.version).toBe(2);
      expect(stored?.state).toBe(`state-${winner}`);
      expect((await store().readAudit(id)).map((entry) => entry.version)).toEqual([1, 2]);
      const effects = await store().readEffects('worker', { count: 100 });
      expect(effects.map((delivery) => delivery.effect.id)).toEqual([`${id}:2:${winner}`]);
      const timers = await store().claimDueTimers(100, { limit: 100, visibilityMs: 1_000 });
      expect(timers.map((timer) => timer.timer)).toEqual([`timer-${winner}`]);
    });

    it('refuses a malformed commit before writing anything', async () => {
      const id = newId();
      const skipping = { ...commitOf(rollbackAt(id, 1)), rollback: rollbackAt(id, 3) };
      await expect(store().commit(skipping)).rejects.toThrow(/expectedVersion/);
      const foreignTimer = commitOf(rollbackAt(id, 1), { timers: [timerFor('someone-else', 't', 1, 1)] });
      await expect(store().commit(foreignTimer)).rejects.toThrow(/own effects and timers/);
      const foreignEffect = commitOf(rollbackAt(id, 1), { effects: [effectFor('someone-else', 1, 0)] });
      await expect(store().commit(foreignEffect)).rejects.toThrow(/own effects and timers/);
      expect(await store().getRollback(id)).toBeNull();
    });

    it('keeps the audit in version order, details included', async () => {
      const id = newId();
      const first = rollbackAt(id, 1);
      await store().commit(commitOf(first));
      const second = rollbackAt(id, 2, { state: 'authorized' });
      const approval = { ...auditFor(second, 'APPROVE', 'U42'), detail: { role: 'team-lead', minute: 17 } };
      await store().commit(commitOf(second, { audit: [approval] }));
      const third = rollbackAt(id, 3, { state: 'resolved', final: true });
      await store().commit(
        commitOf(third, { audit: [auditFor(third, 'A'), { ...auditFor(third, 'B'), by: 'policy' }] }),
      );
      expect(await store().readAudit(id)).toEqual([
        auditFor(first, 'DECLARE'),
        approval,
        auditFor(third, 'A'),
        { ...auditFor(third, 'B'), by: 'policy' },
      ]);
    });
  });

  describe('listRollbacks', () => {
    it('lists newest first, filters by service, state and activity, and honours the limit', async () => {
      const service = newId('svc');
      const ids = Array.from({ length: 12 }, () => newId());
      for (const [n, id] of ids.entries()) {
        await createAt(store(), id, 1, {
          service: n % 3 === 0 ? `${service}-other` : service,
          createdAt: 1_000 + n,
        });
      }
      const newestFirst = [...ids].reverse();
      const mine = newestFirst.filter((_, n) => (11 - n) % 3 !== 0);
      const all = await store().listRollbacks();
      expect(all.map((r) => r.id)).toEqual(newestFirst);
      expect((await store().listRollbacks({ service })).map((r) => r.id)).toEqual(mine);
      expect((await store().listRollbacks({ service, limit: 3 })).map((r) => r.id)).toEqual(mine.slice(0, 3));
      expect((await store().listRollbacks({ limit: 1 })).map((r) => r.id)).toEqual([ids[11]]);
      expect(await store().listRollbacks({ service: newId('unknown') })).toEqual([]);

      const finished = mine[1]!;
      const createdAt = 1_000 + ids.indexOf(finished);
      await store().commit(
        commitOf(rollbackAt(finished, 2, { service, state: 'resolved', final: true, createdAt })),
      );
      const active = await store().listRollbacks({ service, activeOnly: true });
      expect(active.map((r) => r.id)).toEqual(mine.filter((id) => id !== finished));
      expect((await store().listRollbacks({ activeOnly: true })).map((r) => r.id)).not.toContain(finished);
      const resolved = await store().listRollbacks({ state: 'resolved' });
      expect(resolved.map((r) => r.id)).toEqual([finished]);
      expect(resolved[0]?.final).toBe(true);
      expect(await store().listRollbacks({ state: 'resolved', service: `${service}-other` })).toEqual([]);
    });

    it('orders rollbacks created in the same millisecond the same way every time', async () => {
      const ids = [newId(), newId(), newId()];
      for (const id of ids) await createAt(store(), id, 1, { createdAt: 5_000 });
      const listed = (await store().listRollbacks()).map((r) => r.id);
      expect(listed).toEqual([...ids].sort().reverse());
    });
  });
}
