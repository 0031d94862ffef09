import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { doOnce, ONCE_CLAIM_TTL_MS } from '../../../src/store/once.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('doOnce', () => {
  it('does the work once, lets a retry do it after a failure, and skips what found nothing to do', async () => {
    const store = new MemoryStore();
    let runs = 0;
    const work = () => {
      runs++;
      return Promise.resolve(true);
    };
    expect(await doOnce(store, 'c', 'k', work)).toBe('ran');
    expect(await doOnce(store, 'c', 'k', work)).toBe('done');
    expect(runs).toBe(1);

    await expect(doOnce(store, 'c', 'f', () => Promise.reject(new Error('slack is down')))).rejects.toThrow();
    expect(await doOnce(store, 'c', 'f', work)).toBe('ran');

    expect(await doOnce(store, 'c', 's', () => Promise.resolve(false))).toBe('skipped');
    expect(await doOnce(store, 'c', 's', work)).toBe('ran');
  });

  it('is busy while another caller holds a fresh claim, and takes over one whose holder died', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryStore();
    let release: () => void = () => undefined;
    const first = doOnce(
      store,
      'c',
      'k',
      () =>
        new Promise<boolean>(
          (resolve) =>
            (release = () => {
              resolve(true);
            }),
        ),
    );
    await vi.waitFor(async () => {
      expect(await store.getDoc('c', 'k')).not.toBeNull();
    });
    expect(await doOnce(store, 'c', 'k', () => Promise.resolve(true))).toBe('busy');
    vi.setSystemTime(Date.now() + ONCE_CLAIM_TTL_MS + 1);
    expect(await doOnce(store, 'c', 'k', () => Promise.resolve(true))).toBe('ran');
    release();
    await first;
    expect(await doOnce(store, 'c', 'k', () => Promise.resolve(true))).toBe('done');
  });
});
