/**
 * Effect handlers that run a plan's steps and validation checks through a `perform` function that
 * the composition root wires to the executors.
 *
 * A step is never run twice by accident: the runner holds a lease on the rollback's step slot and
 * renews it while the step runs; STEP_STARTED is stored before any work begins. A delivery that
 * finds the step already started (its worker died, or shut down mid-step) reports
 * STEP_INTERRUPTED instead of running it again, and a human chooses Retry, Skip or Abort.
 * Checks only read, so running one again is harmless and needs no lease.
 *
 * Steps after resolution (`phase: 'after'` on the effect) run the same way, under the same lease;
 * they report with their own event types (AFTER_STEP_*), resolve no target (nobody approved one),
 * and stop when the rollback no longer wants them: it is final all along, so that is read from
 * the step's own record.
 *
 * What a step did is not dropped because the store went away while it ran: its outcome is held and
 * reported once the store answers again, after taking the step's lease back (it lapsed meanwhile).
 * Dropping it would leave the step "started" with no end, and the rollback would wait for a human
 * who cannot know whether it ran.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { afterStepWanted } from '../domain/rollback-after.js';
import type { PersistedRollback } from '../domain/rollback-machine.js';
import type { StepPhase } from '../domain/rollback-types.js';
import type { StepTarget } from '../domain/step-target.js';
import { RollbackError, StoreUnavailableError } from '../lib/errors.js';
import type { Leases, OutboxEffect, RollbackReader, StoredRollback } from '../store/store.js';
import type { Engine } from './engine.js';
import type { EffectContext, EffectHandler } from './outbox-worker.js';

/**
 * How a step attempt ended, as the engine records it: the subset of the executors' `StepResult`
 * (src/executors/executor.ts, built from this type) that a step can end with. The step performer
 * maps the rest: an executor's `inconclusive` ends the step `failed` ("inconclusive: ..."), and its
 * `summary` is for checks.
 */
export type StepOutcome =
  | { outcome: 'succeeded'; output: Record<string, unknown> }
  /** `conflict`: the object changed under the step; a human decides whatever `onFailure` says. */
  | { outcome: 'failed'; error: string; conflict?: boolean };

export type CheckOutcome =
  | { outcome: 'passed'; detail?: string }
  | { outcome: 'failed'; detail: string }
  | { outcome: 'inconclusive'; detail: string };

export interface StepWork {
  rollbackId: string;
  index: number;
  attempt: number;
  /** The rollback's persisted snapshot as it was when the work began. */
  snapshot: unknown;
  /** The target recorded with the step's start: the attempt drives the object to exactly this. */
  target?: StepTarget;
  /** `after`: `index` is in the plan's steps after resolution. */
  phase?: StepPhase;
}

/** The target an attempt must reach, or why it must not start (the object changed since approval). */
export type TargetDecision = { target?: StepTarget } | { error: string };

export interface StepRunnerOptions {
  store: Leases & RollbackReader;
  engine: Pick<Engine<unknown>, 'dispatch'>;
  log: Logger;
  now: () => number;
  /** Lease owner name, unique per process. */
  owner: string;
  /** A step's lease lapses this long after its worker stopped renewing it (crash detection time). */
  leaseTtlMs: number;
  performStep: (work: StepWork, signal: AbortSignal) => Promise<StepOutcome>;
  /**
   * Before an attempt starts: the target recorded by an earlier attempt, or, for a platform step's
   * first attempt, its target read now and checked against what was approved. Stored with
   * STEP_STARTED, atomically, before the step changes anything.
   */
  targetFor?: (rollbackId: string, index: number, snapshot: unknown) => Promise<TargetDecision>;
  performCheck: (work: StepWork, signal: AbortSignal) => Promise<CheckOutcome>;
  /** A watch of the strategy, sampled while the steps run (absent: watches are never sampled). */
  performWatch?: (work: StepWork, signal: AbortSignal) => Promise<CheckOutcome>;
}

const stepLease = (rollbackId: string): string => `step:${rollbackId}`;

/** How often a held step outcome is offered to a store that went away: soon, then every 2 s. */
/** How often a held step lease is tried again while its holder may be dead. */
const LEASE_POLL_MS = 250;
const OUTAGE_RETRY_MIN_MS = 250;
const OUTAGE_RETRY_MAX_MS = 2_000;

const sleepUnless = (signal: AbortSignal, ms: number): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => undefined);

/** The events a step of each phase reports with. */
const REPORTS = {
  steps: {
    started: 'STEP_STARTED',
    succeeded: 'STEP_SUCCEEDED',
    failed: 'STEP_FAILED',
    interrupted: 'STEP_INTERRUPTED',
  },
  after: {
    started: 'AFTER_STEP_STARTED',
    succeeded: 'AFTER_STEP_SUCCEEDED',
    failed: 'AFTER_STEP_FAILED',
    interrupted: 'AFTER_STEP_INTERRUPTED',
  },
} as const;

const phaseOf = (effect: OutboxEffect): StepPhase | undefined =>
  effect.payload['phase'] === 'after' ? 'after' : undefined;

function indexAndAttempt(effect: OutboxEffect, indexField: string): { index: number; attempt: number } {
  const index = effect.payload[indexField];
  const attempt = effect.payload['attempt'];
  if (typeof index !== 'number' || typeof attempt !== 'number') {
    throw new Error(`effect ${effect.id} lacks ${indexField}/attempt`);
  }
  return { index, attempt };
}

export function createStepHandlers(options: StepRunnerOptions): {
  runStep: EffectHandler;
  runCheck: EffectHandler;
  runWatch: EffectHandler;
  cancelStep: EffectHandler;
} {
  const { store, engine, log, now, owner, leaseTtlMs } = options;
  /** Steps running in this process, so a cancel or abort can stop them at once. */
  const running = new Map<string, AbortController>();

  async function runStep(effect: OutboxEffect, context: EffectContext): Promise<void> {
    const { index, attempt } = indexAndAttempt(effect, 'stepIndex');
    const phase = phaseOf(effect);
    const reports = REPORTS[phase ?? 'steps'];
    const rollbackId = effect.rollbackId;
    const lease = stepLease(rollbackId);
    await takeLease(lease, rollbackId, context.signal);
    try {
      const step = { step: index, attempt };
      // Nobody approved a target for a step after resolution: its executor reads its object itself.
      const { decision, read } =
        phase === 'after' ? { decision: {}, read: undefined } : await decideTarget(rollbackId, index);
      const target = 'target' in decision ? decision.target : undefined;
      // Decided on the record just read (a round trip less per step); a stale one is read again.
      const started = await engine.dispatch(
        rollbackId,
        {
          type: reports.started,
          ...step,
          ...(target === undefined ? {} : { target }),
          at: now(),
          by: 'system',
        },
        read,
      );
      if (!started.ok) {
        // Started before by a worker that is gone (its lease lapsed, we hold it now) or already over.
        const interrupted = await engine.dispatch(rollbackId, {
          type: reports.interrupted,
          ...step,
          at: now(),
          by: 'system',
        });
        if (interrupted.ok) {
          // After resolution nobody is asked: the thread reports it, and nothing below it runs.
          log.warn(
            { rollbackId, ...step, ...(phase === undefined ? {} : { phase }) },
            phase === 'after'
              ? 'step after resolution was interrupted'
              : 'step was interrupted; asking a human',
          );
        }
        return;
      }
      if ('error' in decision) {
        // Nothing was changed: a human looks at the new state and decides (Retry reads it again).
        await engine.dispatch(rollbackId, {
          type: 'STEP_FAILED',
          ...step,
          error: decision.error,
          conflict: true,
          at: now(),
          by: 'system',
        });
        return;
      }
      const work: StepWork = {
        rollbackId,
        index,
        attempt,
        snapshot: started.rollback.snapshot,
        ...(phase === undefined ? {} : { phase }),
      };
      const outcome = await runWithLease(lease, work, context, (signal) =>
        options.performStep(target === undefined ? work : { ...work, target }, signal),
      );
      if (outcome === 'lost' || outcome === 'aborted') {
        await engine.dispatch(rollbackId, { type: reports.interrupted, ...step, at: now(), by: 'system' });
        return;
      }
      const event =
        outcome.outcome === 'succeeded'
          ? { type: reports.succeeded, ...step, output: outcome.output }
          : {
              type: reports.failed,
              ...step,
              error: outcome.error,
              // A conflict asks a human to decide about a step; after resolution nobody is asked.
              ...(outcome.conflict === true && phase === undefined ? { conflict: true } : {}),
            };
      await reportWhenStoreAnswers(
        rollbackId,
        lease,
        { ...event, at: now(), by: 'system' },
        context.signal,
        started.rollback,
      );
    } finally {
      await store.releaseLease(lease, owner).catch((error: unknown) => {
        // It lapses by itself (the store is away, or it was taken back).
        log.warn({ err: error, lease }, 'could not release the step lease');
      });
    }
  }

  /**
   * Reports how a step ended, holding the report while the store is unavailable (until it answers,
   * or the process shuts down: then the step is reported interrupted on the next start). After an
   * outage the lease is taken back first: a replica that took it meanwhile reports the step
   * interrupted, and this report is then refused by the machine instead of racing it.
   */
  async function reportWhenStoreAnswers(
    rollbackId: string,
    lease: string,
    event: { type: string; at: number; by: string },
    shutdown: AbortSignal,
    /** The record as the step started: decided on first (the engine reads again if it is stale). */
    known: StoredRollback,
  ): Promise<void> {
    let waitMs = 0;
    for (;;) {
      try {
        if (waitMs > 0 && (await store.acquireLease(lease, owner, leaseTtlMs)) === null) {
          log.warn({ rollbackId, lease }, 'another worker took the step over during the store outage');
          return;
        }
        await engine.dispatch(rollbackId, event, waitMs === 0 ? known : undefined);
        if (waitMs > 0) log.info({ rollbackId, event: event.type }, 'step outcome reported after the outage');
        return;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || shutdown.aborted) throw error;
        if (waitMs === 0)
          log.warn({ rollbackId, event: event.type }, 'store unavailable; holding the step outcome');
        waitMs = Math.min(Math.max(waitMs * 2, OUTAGE_RETRY_MIN_MS), OUTAGE_RETRY_MAX_MS);
        await sleepUnless(shutdown, waitMs);
      }
    }
  }

  /** The step's target, and the record it was decided on (the step's start is decided on it too). */
  async function decideTarget(
    rollbackId: string,
    index: number,
  ): Promise<{ decision: TargetDecision; read: StoredRollback | undefined }> {
    const rollback = await store.getRollback(rollbackId);
    const read = rollback ?? undefined;
    if (!options.targetFor || !rollback) return { decision: {}, read };
    try {
      return { decision: await options.targetFor(rollbackId, index, rollback.snapshot), read };
    } catch (error) {
      log.warn({ err: error, rollbackId, index }, 'could not read the step target');
      return {
        decision: { error: `the step's target could not be read: ${String(error)}; nothing was changed` },
        read,
      };
    }
  }

  /**
   * Takes the step's lease. Held, it is waited for up to one lease time: the effect came back
   * because its worker stopped saying it runs it (`keepAlive`), so that worker is most likely dead
   * and its lease lapses within that time; waiting a whole reclaim more for the next delivery
   * added up to 10 s to a crash's recovery (bench/recovery.ts). Still held after that, its holder
   * lives: the effect is retried later (retryable: never given up while somebody runs the step).
   */
  async function takeLease(lease: string, rollbackId: string, shutdown: AbortSignal): Promise<void> {
    const deadline = Date.now() + leaseTtlMs;
    for (;;) {
      if ((await store.acquireLease(lease, owner, leaseTtlMs)) !== null) return;
      if (Date.now() >= deadline || shutdown.aborted) break;
      await sleepUnless(shutdown, Math.min(LEASE_POLL_MS, leaseTtlMs / 4));
    }
    throw new RollbackError({
      code: 'step_lease_held',
      userMessage: `the step of ${rollbackId} is run by ${(await store.leaseHolder(lease)) ?? 'another worker'}; it will be looked at again`,
      retryable: true,
    });
  }

  /**
   * Runs `work` while renewing the lease; a lost lease, a shutdown, or the rollback no longer
   * wanting the step (a cancel or abort, or a new rollback calling off the steps after resolution,
   * handled by any replica: each heartbeat looks) aborts the work.
   */
  async function runWithLease<T>(
    lease: string,
    step: StepWork,
    effect: Pick<EffectContext, 'signal' | 'keepAlive'>,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T | 'lost' | 'aborted'> {
    const shutdown = effect.signal;
    const { rollbackId } = step;
    const controller = new AbortController();
    running.set(lease, controller);
    const renewal = { lost: false };
    const onShutdown = (): void => {
      controller.abort(new Error('the bot is shutting down'));
    };
    shutdown.addEventListener('abort', onShutdown);
    const heartbeat = setInterval(
      () => {
        void store.renewLease(lease, owner, leaseTtlMs).then(
          (renewed) => {
            if (!renewed && !renewal.lost) {
              renewal.lost = true;
              controller.abort(new Error('step lease lost'));
            }
          },
          (error: unknown) => {
            log.warn({ err: error, lease }, 'lease renewal failed');
          },
        );
        // The effect stays with this worker while the step runs: only a dead worker's is taken over.
        effect.keepAlive().catch((error: unknown) => {
          log.warn({ err: error, lease }, 'could not keep the step effect');
        });
        void store.getRollback(rollbackId).then(
          (rollback) => {
            if (rollback && !stillWanted(rollback, step) && !controller.signal.aborted) {
              controller.abort(new Error('the rollback no longer wants this step'));
            }
          },
          (error: unknown) => {
            log.warn({ err: error, rollbackId }, 'could not read the rollback while its step runs');
          },
        );
      },
      Math.max(50, Math.floor(leaseTtlMs / 3)),
    );
    try {
      const result = await work(controller.signal);
      if (renewal.lost) return 'lost';
      if (controller.signal.aborted) return 'aborted';
      return result;
    } catch (error) {
      if (renewal.lost) return 'lost';
      if (controller.signal.aborted) return 'aborted';
      throw error;
    } finally {
      clearInterval(heartbeat);
      running.delete(lease);
      shutdown.removeEventListener('abort', onShutdown);
    }
  }

  /** A step is unwanted once its rollback ended; a step after resolution, once it was called off. */
  function stillWanted(rollback: StoredRollback, work: StepWork): boolean {
    if (work.phase !== 'after') return !rollback.final;
    const context = (rollback.snapshot as PersistedRollback).context;
    return afterStepWanted(context, work.index, work.attempt);
  }

  async function runCheck(effect: OutboxEffect, context: EffectContext): Promise<void> {
    const { index, attempt } = indexAndAttempt(effect, 'checkIndex');
    const rollback = await store.getRollback(effect.rollbackId);
    if (!rollback || rollback.final) return;
    const outcome = await options.performCheck(
      { rollbackId: effect.rollbackId, index, attempt, snapshot: rollback.snapshot },
      context.signal,
    );
    const type =
      outcome.outcome === 'passed'
        ? 'CHECK_PASSED'
        : outcome.outcome === 'failed'
          ? 'CHECK_FAILED'
          : 'CHECK_INCONCLUSIVE';
    await engine.dispatch(effect.rollbackId, {
      type,
      check: index,
      attempt,
      ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
      at: now(),
      by: 'system',
    });
  }

  /** A sample of a watched metric: a failed check is a breach; the machine decides what it holds. */
  async function runWatch(effect: OutboxEffect, context: EffectContext): Promise<void> {
    const { index, attempt } = indexAndAttempt(effect, 'watchIndex');
    const rollback = await store.getRollback(effect.rollbackId);
    if (!rollback || rollback.final || !options.performWatch) return;
    const outcome = await options.performWatch(
      { rollbackId: effect.rollbackId, index, attempt, snapshot: rollback.snapshot },
      context.signal,
    );
    await engine.dispatch(effect.rollbackId, {
      type: 'WATCH_SAMPLED',
      watch: index,
      attempt,
      status:
        outcome.outcome === 'passed' ? 'ok' : outcome.outcome === 'failed' ? 'breached' : 'inconclusive',
      ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
      at: now(),
      by: 'system',
    });
  }

  /**
   * Stops a step the rollback no longer wants (cancelled or aborted while it ran) at once when it
   * runs in this process; on another replica, that replica's next heartbeat sees the rollback ended
   * and stops it (within a third of the lease).
   */
  function cancelStep(effect: OutboxEffect): Promise<void> {
    running.get(stepLease(effect.rollbackId))?.abort(new Error('the rollback no longer wants this step'));
    return Promise.resolve();
  }

  return { runStep, runCheck, runWatch, cancelStep };
}
