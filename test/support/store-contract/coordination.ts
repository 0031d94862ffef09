import { describe, expect, it } from 'vitest';
import { newId, sleep, type GetStore } from './fixtures.js';

export function describeCoordinationContract(store: GetStore): void {
  describe('leases', () => {
    it('is held by one owner at a time, renewed and released only by its owner', async () => {
      const name = newId('lease');
      const token = await store().acquireLease(name, 'replica-a', 10_000);
      expect(token).toEqual(expect.any(Number));
      expect(await store().leaseHolder(name)).toBe('replica-a');
      expect(await store().acquireLease(name, 'replica-b', 10_000)).toBeNull();
      expect(await store().renewLease(name, 'replica-b', 10_000)).toBe(false);
      expect(await store().renewLease(name, 'replica-a', 10_000)).toBe(true);
      expect(await store().releaseLease(name, 'replica-b')).toBe(false);
      expect(await store().leaseHolder(name)).toBe('replica-a');
      expect(await store().releaseLease(name, 'replica-a')).toBe(true);
      expect(await store().leaseHolder(name)).toBeNull();
      expect(await store().releaseLease(name, 'replica-a')).toBe(false);
      expect(await store().renewLease(name, 'replica-a', 10_000)).toBe(false);
      const next = await store().acquireLease(name, 'replica-b', 10_000);
      expect(next).toBeGreaterThan(token!);
    });

    it('issues strictly increasing fencing tokens per name, also to an owner acquiring again', async () => {
      const name = newId('lease');
      const tokens: number[] = [];
      for (let round = 0; round < 8; round += 1) {
        const owner = round % 2 === 0 ? 'a' : 'b';
        const token = await store().acquireLease(name, owner, 10_000);
        expect(token).not.toBeNull();
        tokens.push(token!);
        if (round % 3 !== 2) expect(await store().releaseLease(name, owner)).toBe(true);
        else {
          tokens.push((await store().acquireLease(name, owner, 10_000))!);
          await store().releaseLease(name, owner);
        }
      }
      for (let i = 1; i < tokens.length; i += 1) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
      const other = await store().acquireLease(newId('lease'), 'a', 10_000);
      expect(other).toEqual(expect.any(Number));
    });

    it('goes to exactly one of 20 concurrent owners', async () => {
      const name = newId('lease');
      const owners = Array.from({ length: 20 }, (_, n) => `owner-${n}`);
      const tokens = await Promise.all(owners.map((owner) => store().acquireLease(name, owner, 10_000)));
      const winners = owners.filter((_, n) => tokens[n] !== null);
      expect(winners).toHaveLength(1);
      expect(await store().leaseHolder(name)).toBe(winners[0]);
    });

    it('expires after its TTL unless renewed', async () => {
      const name = newId('lease');
      const first = await store().acquireLease(name, 'a', 300);
      await sleep(100);
      expect(await store().renewLease(name, 'a', 600)).toBe(true);
      await sleep(300); // past the first TTL, inside the renewed one
      expect(await store().leaseHolder(name)).toBe('a');
      expect(await store().acquireLease(name, 'b', 100)).toBeNull();
      await sleep(450);
      expect(await store().leaseHolder(name)).toBeNull();
      expect(await store().renewLease(name, 'a', 300)).toBe(false);
      expect(await store().acquireLease(name, 'b', 1_000)).toBeGreaterThan(first!);
    });
  });

  describe('rememberOnce', () => {
    it('is true the first time a key is seen within the TTL, and again after it', async () => {
      const key = newId('event');
      expect(await store().rememberOnce(key, 300)).toBe(true);
      expect(await store().rememberOnce(key, 300)).toBe(false);
      expect(await store().rememberOnce(newId('event'), 300)).toBe(true);
      await sleep(400);
      expect(await store().rememberOnce(key, 300)).toBe(true);
    });

    it('is true for exactly one of 20 concurrent callers', async () => {
      const key = newId('click');
      const answers = await Promise.all(Array.from({ length: 20 }, () => store().rememberOnce(key, 10_000)));
      expect(answers.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('active rollback lock', () => {
    it('is held by one rollback per service and environment', async () => {
      const service = newId('svc');
      expect(await store().activeRollbackId(service, 'production')).toBeNull();
      expect(await store().acquireActiveLock(service, 'production', 'rb-1')).toEqual({ ok: true });
      expect(await store().acquireActiveLock(service, 'production', 'rb-1')).toEqual({ ok: true });
      expect(await store().acquireActiveLock(service, 'production', 'rb-2')).toEqual({
        ok: false,
        holder: 'rb-1',
      });
      expect(await store().acquireActiveLock(service, 'staging', 'rb-2')).toEqual({ ok: true });
      expect(await store().activeRollbackId(service, 'production')).toBe('rb-1');
      expect(await store().activeRollbackId(service, 'staging')).toBe('rb-2');
    });

    it('keeps names with colons apart', async () => {
      const service = newId('svc');
      expect(await store().acquireActiveLock(`${service}:a`, 'b', 'rb-1')).toEqual({ ok: true });
      expect(await store().acquireActiveLock(service, 'a:b', 'rb-2')).toEqual({ ok: true });
    });

    it('is released only by its holder', async () => {
      const service = newId('svc');
      await store().acquireActiveLock(service, 'production', 'rb-1');
      await store().releaseActiveLock(service, 'production', 'rb-2');
      expect(await store().activeRollbackId(service, 'production')).toBe('rb-1');
      await store().releaseActiveLock(service, 'production', 'rb-1');
      expect(await store().activeRollbackId(service, 'production')).toBeNull();
      expect(await store().acquireActiveLock(service, 'production', 'rb-2')).toEqual({ ok: true });
    });

    it('is replaced only while the expected holder still holds it', async () => {
      const service = newId('svc');
      await store().acquireActiveLock(service, 'production', 'stale');
      expect(await store().replaceActiveLock(service, 'production', 'someone-else', 'rb-2')).toBe(false);
      expect(await store().replaceActiveLock(service, 'production', 'stale', 'rb-2')).toBe(true);
      expect(await store().replaceActiveLock(service, 'production', 'stale', 'rb-3')).toBe(false);
      expect(await store().activeRollbackId(service, 'production')).toBe('rb-2');
      expect(await store().replaceActiveLock(newId('svc'), 'production', 'stale', 'rb-4')).toBe(false);
    });

    it('goes to exactly one of 10 concurrent rollbacks', async () => {
      const service = newId('svc');
      const ids = Array.from({ length: 10 }, (_, n) => `rb-${n}`);
      const results = await Promise.all(
        ids.map((id) => store().acquireActiveLock(service, 'production', id)),
      );
      const holder = await store().activeRollbackId(service, 'production');
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      for (const [n, result] of results.entries()) {
        expect(result).toEqual(ids[n] === holder ? { ok: true } : { ok: false, holder });
      }
    });
  });
}
