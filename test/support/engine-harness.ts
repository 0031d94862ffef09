/**
 * Builds the real engine runtime over a given store for tests: real executors (commands run as child
 * processes), a clock the test can move, and a notify handler that records what people would be told.
 */
import { SecretMask } from '../../src/domain/secret-mask.js';
import { randomUUID } from 'node:crypto';
import type { RollbackInput } from '../../src/domain/rollback-types.js';
import { createEngineRuntime, type EngineRuntime } from '../../src/engine/runtime.js';
import type { EffectHandler } from '../../src/engine/outbox-worker.js';
import { DEFAULT_STEP_TIMEOUT_MAX_MS } from '../../src/config/env.js';
import { defaultRegistry } from '../../src/executors/default-registry.js';
import { createStepPerformer } from '../../src/executors/step-performer.js';
import { silentLogger } from '../../src/lib/logging.js';
import type { OutboxEffect, Store, StoredRollback } from '../../src/store/store.js';
import { rollbackInput, step, T0 } from './domain-fixtures.js';

export interface Harness {
  runtime: EngineRuntime;
  clock: { now: number };
  notices: OutboxEffect[];
}

export function startHarness(
  store: Store,
  options: { leaseTtlMs?: number; handlers?: Record<string, EffectHandler> } = {},
): Harness {
  const clock = { now: T0 };
  const notices: OutboxEffect[] = [];
  const performer = createStepPerformer({
    registry: defaultRegistry(),
    env: process.env,
    secrets: new SecretMask(),
    log: silentLogger,
    maxStepMs: DEFAULT_STEP_TIMEOUT_MAX_MS,
  });
  const runtime = createEngineRuntime({
    store,
    log: silentLogger,
    now: () => clock.now,
    workerId: `test-${randomUUID().slice(0, 8)}`,
    ...performer,
    leaseTtlMs: options.leaseTtlMs ?? 2_000,
    timerPollMs: 50,
    outboxPollMs: 20,
  });
  const handlers: Record<string, EffectHandler> = {
    notify: (effect) => {
      notices.push(effect);
      return Promise.resolve();
    },
    freeze: () => Promise.resolve(),
    ...options.handlers,
  };
  for (const [kind, handler] of Object.entries(handlers)) runtime.handle(kind, handler);
  runtime.start();
  return { runtime, clock, notices };
}

/** A plan step that runs a real program. */
export function commandStep(
  name: string,
  argv: string[],
  onFailure: Parameters<typeof step>[1] = { kind: 'ask' },
) {
  return { ...step(name, onFailure, 'command'), with: { argv, timeout: '20s' } };
}

/** A rollback whose steps and probe are real commands, with a manual smoke test; no stabilisation wait. */
export function commandRollback(id: string, overrides: Partial<RollbackInput> = {}): RollbackInput {
  const base = rollbackInput();
  return rollbackInput({
    id,
    service: `svc-${id}`,
    strategy: {
      ...base.strategy,
      steps: [commandStep('Drain blue', ['sh', '-c', 'echo draining']), commandStep('Switch', ['true'])],
      validate: [
        { name: 'Probe', uses: 'command', with: { argv: ['true'] } },
        { name: 'Smoke test', uses: 'manual', with: {} },
      ],
      stabilizeMs: 0,
    },
    ...overrides,
  });
}

export async function waitFor(
  store: Store,
  id: string,
  predicate: (rollback: StoredRollback) => boolean,
  timeoutMs = 10_000,
): Promise<StoredRollback> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rollback = await store.getRollback(id);
    if (rollback && predicate(rollback)) return rollback;
    if (Date.now() > deadline) {
      // Say where it got stuck: the step statuses and the audit trail.
      const steps = rollback ? stepStatuses(rollback).join(',') : '';
      const audit = (await store.readAudit(id)).map((entry) => `${entry.event}>${entry.state}`).join(' ');
      throw new Error(
        `rollback ${id} did not get there in ${timeoutMs} ms; it is ${rollback?.state ?? 'missing'} [${steps}] after ${audit}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Step statuses of a stored rollback (reads the persisted context). */
export function stepStatuses(rollback: StoredRollback): string[] {
  const snapshot = rollback.snapshot as { context: { steps: Array<{ status: string }> } };
  return snapshot.context.steps.map((s) => s.status);
}
