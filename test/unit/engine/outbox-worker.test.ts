/**
 * The outbox worker's give-up rule: an effect that keeps failing is given up after `maxDeliveries`,
 * unless it fails because something it needs is away for a while (a `retryable` error: Slack
 * limiting the bot, Redis down); that one is tried again until it passes, or until it is older than
 * `maxRetryMs`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxWorker, type EffectHandler } from '../../../src/engine/outbox-worker.js';
import { RollbackError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const away = () =>
  new RollbackError({ code: 'slack_unavailable', userMessage: 'Slack is away', retryable: true });

const workers: OutboxWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop(0)));
});

async function setup(handler: EffectHandler, now = () => T0 + 1_000) {
  const store = new MemoryStore();
  await store.commit({
    rollback: {
      id: 'rb-1',
      service: 'checkout',
      environment: 'production',
      version: 1,
      state: 'declared',
      final: false,
      snapshot: {},
      createdAt: T0,
      updatedAt: T0,
    },
    expectedVersion: 0,
    audit: [],
    effects: [{ id: 'rb-1:1:0', rollbackId: 'rb-1', version: 1, kind: 'notify', payload: {}, createdAt: T0 }],
    timers: [],
  });
  const worker = new OutboxWorker({
    store,
    handlers: { notify: handler },
    log: silentLogger,
    consumer: 'w1',
    reclaimIdleMs: 10,
    maxDeliveries: 3,
    maxRetryMs: 60_000,
    now,
    pollMs: 5,
  });
  workers.push(worker);
  worker.start();
  return store;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const pending = async (store: MemoryStore) =>
  (await store.reclaimEffects('probe', { minIdleMs: 0, count: 10 })).length;

describe('OutboxWorker give-up', () => {
  it('gives an effect that keeps failing up after maxDeliveries', async () => {
    let calls = 0;
    const store = await setup(() => {
      calls += 1;
      return Promise.reject(new Error('a bug'));
    });
    await until(() => calls >= 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(3);
    expect(await pending(store)).toBe(0);
  });

  it('tries an effect failing for a retryable reason again past maxDeliveries, until it passes', async () => {
    let calls = 0;
    const store = await setup(() => {
      calls += 1;
      return calls <= 8 ? Promise.reject(away()) : Promise.resolve();
    });
    await until(() => calls === 9);
    await until(async () => (await pending(store)) === 0);
    expect(calls).toBe(9);
  });

  it('gives a retryable failure up once the effect is older than maxRetryMs', async () => {
    let calls = 0;
    const store = await setup(
      () => {
        calls += 1;
        return Promise.reject(away());
      },
      () => T0 + 60_001,
    );
    await until(() => calls >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(1);
    expect(await pending(store)).toBe(0);
  });
});
