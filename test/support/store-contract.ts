/**
 * The contract every Store implementation must keep, run against the memory store, the machine's
 * Redis and a Redis Cluster the test starts. `makeStore` gives a fresh, empty store for each test and
 * a cleanup that closes it and removes what it wrote.
 *
 * Durations are real but short (tens of milliseconds): Redis measures TTLs and idle times with its
 * own clock, so the suite cannot fake time for it.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeCoordinationContract } from './store-contract/coordination.js';
import { describeDocumentContract } from './store-contract/documents.js';
import { describeOutboxContract } from './store-contract/outbox.js';
import { describeRollbackContract } from './store-contract/rollbacks.js';
import { describeTimerContract } from './store-contract/timers.js';

export interface StoreUnderTest {
  store: Store;
  cleanup: () => Promise<void>;
}

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    const store = (): Store => {
      if (!current) throw new Error('no store: makeStore failed');
      return current.store;
    };

    beforeEach(async () => {
      current = await makeStore();
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    describeRollbackContract(store);
    describeOutboxContract(store);
    describeTimerContract(store);
    describeCoordinationContract(store);
    describeDocumentContract(store);
  });
}
