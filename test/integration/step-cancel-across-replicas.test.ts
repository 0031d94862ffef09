/**
 * A step running on one replica stops when the rollback ends on another, even if the `cancelStep`
 * effect never reaches the replica running it: its lease heartbeat reads the rollback and sees it
 * is over. Here no outbox worker runs at all; the step handler is called directly.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { rollbackDecider } from '../../src/engine/rollback-decider.js';
import { createStepHandlers } from '../../src/engine/step-runner.js';
import { silentLogger } from '../../src/lib/logging.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { MINUTE, ROLES, T0, USERS } from '../support/domain-fixtures.js';
import { commandRollback, waitFor } from '../support/engine-harness.js';

describe('step cancel across replicas', () => {
  it('the replica running a step stops it when another replica aborts the rollback', async () => {
    const store = new MemoryStore();
    const running = new Engine({ store, decider: rollbackDecider, log: silentLogger });
    const other = new Engine({ store, decider: rollbackDecider, log: silentLogger });
    const input = commandRollback('rb-far');
    await running.declare(input, input, T0, USERS.declarer);
    await running.dispatch('rb-far', {
      type: 'APPROVE',
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: T0 + MINUTE,
    });

    let stoppedBecause: unknown;
    const handlers = createStepHandlers({
      store,
      engine: running,
      log: silentLogger,
      now: () => T0 + 2 * MINUTE,
      owner: 'replica-a',
      leaseTtlMs: 300,
      // A step that only ends when it is told to stop.
      performStep: (_work, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            stoppedBecause = signal.reason;
            resolve({ outcome: 'failed', error: 'stopped' });
          });
        }),
      performCheck: () => Promise.resolve({ outcome: 'passed' }),
    });
    const step = handlers.runStep(
      {
        id: 'rb-far:x:0',
        rollbackId: 'rb-far',
        version: 1,
        kind: 'runStep',
        payload: { kind: 'runStep', stepIndex: 0, attempt: 1 },
        createdAt: T0 + MINUTE,
      },
      { signal: new AbortController().signal, deliveries: 1, keepAlive: () => Promise.resolve() },
    );
    await waitFor(store, 'rb-far', (r) => JSON.stringify(r.snapshot).includes('"running"'));

    const aborted = await other.dispatch('rb-far', {
      type: 'ABORT',
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: T0 + 3 * MINUTE,
    });
    expect(aborted.ok).toBe(true);
    await step;
    expect(String(stoppedBecause)).toMatch(/the rollback no longer wants this step/);
    expect((await store.getRollback('rb-far'))?.state).toBe('aborted');
  });
});
