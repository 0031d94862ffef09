import { describe, expect, it } from 'vitest';
import { COLLECTION_INFO, COLLECTIONS, type Collection } from '../../../src/store/collections.js';
import { doOnce } from '../../../src/store/once.js';
import type { Deployment } from '../../../src/store/store.js';
import { newId, type GetStore } from './fixtures.js';

interface Freeze {
  on: boolean;
  reason: string;
  by: string[];
}

export function describeDocumentContract(store: GetStore): void {
  describe('versioned documents', () => {
    it('creates with version 0, then writes only over the version read', async () => {
      const collection = newId('freezes');
      expect(await store().getDoc<Freeze>(collection, 'svc/prod')).toBeNull();
      const first: Freeze = { on: true, reason: 'rollback rb-1: "quoted" ✓', by: ['U1'] };
      expect(await store().putDoc<Freeze>(collection, 'svc/prod', first, 0)).toBe(true);
      expect(await store().putDoc<Freeze>(collection, 'svc/prod', first, 0)).toBe(false);
      expect(await store().getDoc<Freeze>(collection, 'svc/prod')).toEqual({ version: 1, value: first });
      const second: Freeze = { on: false, reason: '', by: [] };
      expect(await store().putDoc<Freeze>(collection, 'svc/prod', second, 2)).toBe(false);
      expect(await store().putDoc<Freeze>(collection, 'svc/prod', second, 1)).toBe(true);
      expect(await store().putDoc<Freeze>(collection, 'svc/prod', first, 1)).toBe(false);
      expect(await store().getDoc<Freeze>(collection, 'svc/prod')).toEqual({ version: 2, value: second });
    });

    it('lists a collection by key, keeps collections apart, and deletes', async () => {
      const collection = newId('incidents');
      await store().putDoc(collection, 'b:fingerprint', { n: 2 }, 0);
      await store().putDoc(collection, 'a:fingerprint', { n: 1 }, 0);
      await store().putDoc(collection, 'a:fingerprint', { n: 11 }, 1);
      await store().putDoc(newId('other'), 'c', { n: 3 }, 0);
      expect(await store().listDocs(collection)).toEqual([
        { key: 'a:fingerprint', version: 2, value: { n: 11 } },
        { key: 'b:fingerprint', version: 1, value: { n: 2 } },
      ]);
      expect(await store().listDocs(newId('empty'))).toEqual([]);
      await store().deleteDoc(collection, 'a:fingerprint');
      await store().deleteDoc(collection, 'never-written');
      expect(await store().getDoc(collection, 'a:fingerprint')).toBeNull();
      expect((await store().listDocs(collection)).map((doc) => doc.key)).toEqual(['b:fingerprint']);
      expect(await store().putDoc(collection, 'a:fingerprint', { n: 4 }, 0)).toBe(true);
    });

    it('lets exactly one of 20 concurrent writers of the same version win', async () => {
      const collection = newId('docs');
      await store().putDoc(collection, 'k', { writer: -1 }, 0);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, writer) => store().putDoc(collection, 'k', { writer }, 1)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await store().getDoc<{ writer: number }>(collection, 'k');
      expect(stored?.version).toBe(2);
      expect(results[stored!.value.writer]).toBe(true);
    });
  });

  describe('documents of a collection with a TTL', () => {
    // The real collections, with their real TTLs (days): the store reads the TTL from collections.ts.
    // What expiry itself does is checked with an injected clock (memory) and PTTL (Redis).
    const expiring = Object.entries(COLLECTION_INFO).flatMap(([name, info]) =>
      info.ttlMs === null ? [] : [name as Collection],
    );
    const notices = COLLECTIONS.slackNotices;

    it('are versioned, kept apart and deleted like any document', async () => {
      const key = newId('rb-1:3:0');
      expect(await store().getDoc(notices, key)).toBeNull();
      expect(await store().putDoc(notices, key, { at: 1, done: false }, 0)).toBe(true);
      expect(await store().putDoc(notices, key, { at: 2, done: false }, 0)).toBe(false);
      expect(await store().putDoc(notices, key, { at: 3, done: true }, 1)).toBe(true);
      expect(await store().putDoc(notices, key, { at: 4, done: true }, 1)).toBe(false);
      expect(await store().getDoc(notices, key)).toEqual({ version: 2, value: { at: 3, done: true } });
      expect(await store().getDoc(COLLECTIONS.stakeholderPosts, key)).toBeNull();
      await store().putDoc(COLLECTIONS.freezes, key, { on: true }, 0);
      await store().deleteDoc(notices, key);
      await store().deleteDoc(notices, 'never-written');
      expect(await store().getDoc(notices, key)).toBeNull();
      expect(await store().getDoc(COLLECTIONS.freezes, key)).toEqual({ version: 1, value: { on: true } });
      expect(await store().putDoc(notices, key, { at: 5, done: false }, 0)).toBe(true);
    });

    it('lets exactly one of 20 concurrent writers of the same version win', async () => {
      const key = newId('claim');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, writer) => store().putDoc(notices, key, { writer }, 0)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store().getDoc(notices, key))?.version).toBe(1);
    });

    it.each(expiring)('keep a once-action of %s done: asked again, it does not run', async (collection) => {
      const key = newId('effect');
      let runs = 0;
      const work = (): Promise<boolean> => {
        runs += 1;
        return Promise.resolve(true);
      };
      const first = await Promise.all(
        Array.from({ length: 5 }, () => doOnce(store(), collection, key, work)),
      );
      expect(first.filter((result) => result === 'ran')).toHaveLength(1);
      expect(await doOnce(store(), collection, key, work)).toBe('done');
      expect(runs).toBe(1);
    });

    it('cannot be listed (their documents are kept one by one)', async () => {
      await store().putDoc(notices, newId('k'), { at: 1 }, 0);
      await expect(store().listDocs(notices)).rejects.toThrow(/cannot be listed/);
    });
  });

  describe('deployments', () => {
    const deployment = (
      service: string,
      version: string,
      at: number,
      extra: Partial<Deployment> = {},
    ): Deployment => ({
      service,
      environment: 'production',
      version,
      at,
      ...extra,
    });

    it('lists newest first by time, per service and environment, up to a limit', async () => {
      const service = newId('svc');
      await store().recordDeployment(deployment(service, 'v1.4.1', 1_000, { commit: 'abc123', by: 'ci' }));
      await store().recordDeployment(deployment(service, 'v1.4.3', 3_000));
      await store().recordDeployment(deployment(service, 'v1.4.2', 2_000));
      await store().recordDeployment(deployment(service, 'v9', 5_000, { environment: 'staging' }));
      await store().recordDeployment(deployment(newId('svc'), 'v7', 4_000));
      const listed = await store().listDeployments(service, 'production');
      expect(listed.map((d) => d.version)).toEqual(['v1.4.3', 'v1.4.2', 'v1.4.1']);
      expect(listed[2]).toEqual(deployment(service, 'v1.4.1', 1_000, { commit: 'abc123', by: 'ci' }));
      expect((await store().listDeployments(service, 'production', 2)).map((d) => d.version)).toEqual([
        'v1.4.3',
        'v1.4.2',
      ]);
      expect((await store().listDeployments(service, 'staging')).map((d) => d.version)).toEqual(['v9']);
      expect(await store().listDeployments(newId('svc'), 'production')).toEqual([]);
    });

    it('records a repeated deployment (a CI retry) once', async () => {
      const service = newId('svc');
      await store().recordDeployment(deployment(service, 'v2', 2_000, { commit: 'c2' }));
      await store().recordDeployment(deployment(service, 'v2', 2_000, { commit: 'c2' }));
      expect(await store().listDeployments(service, 'production')).toHaveLength(1);
    });

    it('keeps the newest 200', async () => {
      const service = newId('svc');
      for (let n = 0; n < 205; n += 1)
        await store().recordDeployment(deployment(service, `v${n}`, 10_000 + n));
      const listed = await store().listDeployments(service, 'production', 1_000);
      expect(listed).toHaveLength(200);
      expect(listed[0]?.version).toBe('v204');
      expect(listed[199]?.version).toBe('v5');
    });
  });

  describe('connection', () => {
    it('answers ping', async () => {
      await expect(store().ping()).resolves.toBeUndefined();
    });
  });
}
