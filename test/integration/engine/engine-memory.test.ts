import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { describeEngineSuite } from '../../support/engine-suite.js';

describeEngineSuite('the in-memory store', () =>
  Promise.resolve({ store: new MemoryStore(), cleanup: () => Promise.resolve() }),
);
