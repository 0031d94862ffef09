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
  /** Handlers for the other effect kinds (`notify`, `freeze`); a kind without one is logged and dropped. */
  handlers?: Readonly<Record<string, EffectHandler>>;
  /** How soon a dead worker's step is reported interrupted (default 10 s). */
  leaseTtlMs?: number;
  timerPollMs?: number;
  outboxPollMs?: number;
}

export interface EngineRuntime {
  engine: Engine<RollbackInput>;
  timers: TimerPoller;
  outbox: OutboxWorker;
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
  });
  const outbox = new OutboxWorker({
    store,
    log,
    consumer: workerId,
    reclaimIdleMs: leaseTtlMs,
    handlers: { ...options.handlers, ...steps },
    ...(options.outboxPollMs === undefined ? {} : { pollMs: options.outboxPollMs }),
  });
  const timers = new TimerPoller({
    store,
    engine,
    log,
    now,
    ...(options.timerPollMs === undefined ? {} : { pollMs: options.timerPollMs }),
  });
  engine.onCommitted((_rollback, effects, scheduled) => {
    if (effects.length > 0) outbox.nudge();
    if (scheduled.length > 0) timers.nudge();
  });
  return {
    engine,
    timers,
    outbox,
    start() {
      outbox.start();
      timers.start();
    },
    async stop(graceMs = 5_000) {
      await timers.stop();
      await outbox.stop(graceMs);
    },
  };
}
