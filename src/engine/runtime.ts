/**
 * The engine with its workers, assembled: dispatch, the outbox worker carrying out effects, the
 * timer poller and the step runner. `main.ts`, the demo and the tests build it the same way;
 * only the handlers for notifications (Slack, SNS, status page) and the step performer differ.
 */
import type { Logger } from 'pino';
import type { RollbackInput } from '../domain/rollback-types.js';
import type { Store } from '../store/store.js';
import { Engine } from './engine.js';
import { OutboxWorker, type EffectHandler } from './outbox-worker.js';
import { rollbackDecider } from './rollback-decider.js';
import { createStepHandlers, type StepRunnerOptions } from './step-runner.js';
import { TimerPoller } from './timer-poller.js';

export interface EngineRuntimeOptions {
  store: Store;
  log: Logger;
  now: () => number;
  /** Unique per process (host + pid + random): names outbox consumers and lease owners. */
  workerId: string;
  performStep: StepRunnerOptions['performStep'];
  targetFor?: StepRunnerOptions['targetFor'];
  performCheck: StepRunnerOptions['performCheck'];
  performWatch?: StepRunnerOptions['performWatch'];
  /** How soon a dead worker's step is reported interrupted (default 10 s). */
  leaseTtlMs?: number;
  timerPollMs?: number;
  outboxPollMs?: number;
}

export interface EngineRuntime {
  engine: Engine<RollbackInput>;
  timers: TimerPoller;
  outbox: OutboxWorker;
  /**
   * Adds the handler of an effect kind other than the steps' (`notify`, `freeze`); a kind without one
   * is logged and dropped. The services handlers call are built on the engine, so handlers come
   * after it, and before `start`.
   */
  handle(kind: string, handler: EffectHandler): void;
  start(): void;
  /** Graceful shutdown: stop taking work, give running steps `graceMs`, then hand them back. */
  stop(graceMs?: number): Promise<void>;
}

export function createEngineRuntime(options: EngineRuntimeOptions): EngineRuntime {
  const { store, log, now, workerId } = options;
  const leaseTtlMs = options.leaseTtlMs ?? 10_000;
  const engine = new Engine<RollbackInput>({ store, decider: rollbackDecider, log });
  const steps = createStepHandlers({
    store,
    engine,
    log,
    now,
    owner: workerId,
    leaseTtlMs,
    performStep: options.performStep,
    ...(options.targetFor === undefined ? {} : { targetFor: options.targetFor }),
    performCheck: options.performCheck,
    ...(options.performWatch === undefined ? {} : { performWatch: options.performWatch }),
  });
  const handlers: Record<string, EffectHandler> = { ...steps };
  let started = false;
  const outbox = new OutboxWorker({
    store,
    log,
    consumer: workerId,
    reclaimIdleMs: leaseTtlMs,
    handlers,
    now,
    ...(options.outboxPollMs === undefined ? {} : { pollMs: options.outboxPollMs }),
  });
  const timers = new TimerPoller({
    store,
    engine,
    log,
    now,
    ...(options.timerPollMs === undefined ? {} : { pollMs: options.timerPollMs }),
  });
  engine.onCommitted((committed) => {
    if (committed.effects.length > 0) outbox.nudge();
    if (committed.timers.length > 0) timers.nudge();
  });
  return {
    engine,
    timers,
    outbox,
    handle(kind, handler) {
      if (started) throw new Error(`the ${kind} handler came after the workers started`);
      if (kind in handlers) throw new Error(`effects of kind ${kind} already have a handler`);
      handlers[kind] = handler;
    },
    start() {
      started = true;
      outbox.start();
      timers.start();
    },
    async stop(graceMs = 5_000) {
      await timers.stop();
      await outbox.stop(graceMs);
    },
  };
}
