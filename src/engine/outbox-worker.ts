/**
 * Carries out the effects that transitions stored in the outbox, at least once. An effect is
 * acknowledged only after its handler returned; a handler that throws leaves it pending, and any
 * worker takes it over once it has been idle for `reclaimIdleMs` (the worker that had it may be dead).
 * Handlers make repeats harmless with the effect's stable id.
 *
 * A failing effect is given up after `maxDeliveries`, so a handler that can never succeed does not
 * spin forever; but not when it failed because something it needs is away for a while (an error
 * marked `retryable`: Slack limiting the bot, Redis down): that effect is tried again for as long as
 * the outage lasts, up to `maxRetryMs` after it was decided, or a notice would be lost to a long
 * outage. Each try is one reclaim apart, so the pace stays gentle.
 */
import type { Logger } from 'pino';
import { RollbackError } from '../lib/errors.js';
import { Sleeper } from '../lib/sleeper.js';
import type { EffectDelivery, Outbox, OutboxEffect } from '../store/store.js';

export interface EffectContext {
  /** Aborted when the worker shuts down and the grace period is over. */
  signal: AbortSignal;
  /** 1 on the first delivery; more means an earlier attempt failed or its worker died. */
  deliveries: number;
  /**
   * Says the effect is still being carried out (a long step calls it with each lease renewal), so
   * that no other worker takes it over as a dead worker's.
   */
  keepAlive: () => Promise<void>;
}

export type EffectHandler = (effect: OutboxEffect, context: EffectContext) => Promise<void>;

export interface OutboxWorkerOptions {
  store: Outbox;
  handlers: Readonly<Record<string, EffectHandler>>;
  log: Logger;
  /** Unique per process: pending entries are owned by a consumer name. */
  consumer: string;
  /** How long an unacknowledged effect stays with its worker before another takes it over. */
  reclaimIdleMs: number;
  /**
   * Effects carried out at once (a running step occupies one slot for its whole duration). Default
   * 64: most effects wait on Slack or Redis, not on this process, and with 16 a step's effect waited
   * behind the notices read before it (200 rollbacks approved at once: approval to first step p99
   * 7.5 s with 16, 3.8 s with 64, bench/many-rollbacks.ts).
   */
  concurrency?: number;
  /** After this many deliveries a failing effect is given up (logged) instead of retried forever. */
  maxDeliveries?: number;
  /** A retryable failure is tried again until the effect is this old (default 24 h). */
  maxRetryMs?: number;
  /** The clock effects are dated by (`createdAt`). */
  now?: () => number;
  pollMs?: number;
}

const DAY_MS = 24 * 60 * 60_000;

export class OutboxWorker {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly abortRunning = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly sleeper = new Sleeper();
  private lastReclaim = 0;

  constructor(private readonly options: OutboxWorkerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Wakes the loop at once (after a local commit) instead of waiting for the next poll. */
  nudge(): void {
    this.sleeper.wake();
  }

  /**
   * Stops taking effects and waits up to `graceMs` for those in flight; then aborts them. An aborted
   * effect is not acknowledged, so it is delivered again (a step handler turns that into
   * STEP_INTERRUPTED rather than running the step twice).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping.abort();
    this.sleeper.wake();
    await this.loop;
    const settled = Promise.allSettled([...this.inFlight.values()]);
    const timeout = new Promise<'timeout'>((resolve) => {
      setTimeout(() => {
        resolve('timeout');
      }, graceMs).unref();
    });
    if ((await Promise.race([settled, timeout])) === 'timeout') {
      this.abortRunning.abort();
      await settled;
    }
  }

  private async run(): Promise<void> {
    const { store, log, consumer, reclaimIdleMs } = this.options;
    const concurrency = this.options.concurrency ?? 64;
    const pollMs = this.options.pollMs ?? 200;
    while (!this.stopping.signal.aborted) {
      const mark = this.sleeper.mark();
      try {
        const free = concurrency - this.inFlight.size;
        if (free > 0) {
          const now = Date.now();
          if (now - this.lastReclaim >= Math.min(reclaimIdleMs, 1_000)) {
            this.lastReclaim = now;
            for (const delivery of await store.reclaimEffects(consumer, {
              minIdleMs: reclaimIdleMs,
              count: free,
            })) {
              this.handle(delivery);
            }
          }
          const room = concurrency - this.inFlight.size;
          if (room > 0) {
            const deliveries = await store.readEffects(consumer, { count: room });
            for (const delivery of deliveries) this.handle(delivery);
            if (deliveries.length > 0) continue;
          }
        }
      } catch (error) {
        log.error({ err: error }, 'outbox read failed; retrying');
      }
      await this.sleeper.sleep(pollMs, mark);
    }
  }

  private handle(delivery: EffectDelivery): void {
    const { effect } = delivery;
    if (this.inFlight.has(effect.id)) return;
    const task = this.carryOut(delivery).finally(() => this.inFlight.delete(effect.id));
    this.inFlight.set(effect.id, task);
  }

  private async carryOut(delivery: EffectDelivery): Promise<void> {
    const { store, handlers, log } = this.options;
    const { effect } = delivery;
    const maxDeliveries = this.options.maxDeliveries ?? 10;
    const handler = handlers[effect.kind];
    const fields = { effectId: effect.id, rollbackId: effect.rollbackId, kind: effect.kind };
    if (!handler) {
      log.error(fields, 'no handler for this effect kind; dropping it');
      await store.ackEffect(delivery);
      return;
    }
    try {
      await handler(effect, {
        signal: this.abortRunning.signal,
        deliveries: delivery.deliveries,
        keepAlive: () => store.keepEffect(this.options.consumer, delivery),
      });
      await store.ackEffect(delivery);
    } catch (error) {
      const age = (this.options.now ?? Date.now)() - effect.createdAt;
      const waitsOut = error instanceof RollbackError && error.retryable;
      if (waitsOut ? age > (this.options.maxRetryMs ?? DAY_MS) : delivery.deliveries >= maxDeliveries) {
        log.error(
          { ...fields, err: error, deliveries: delivery.deliveries },
          'effect failed too often; giving up',
        );
        await store.ackEffect(delivery).catch(() => undefined);
      } else {
        log.warn(
          { ...fields, err: error, deliveries: delivery.deliveries },
          'effect failed; it will be retried',
        );
      }
    }
  }
}
