/**
 * Calls to a rate-limited HTTP API (Statuspage allows one request per second per API key), queued per
 * key and sent one after another, so the API never sees two requests of a key closer than the
 * interval. The interval runs from the END of the previous request: its start plus the interval
 * could land within the interval of its arrival when the network is slow.
 *
 * Enqueueing never waits: notifications must never hold up a rollback. A call that is refused with
 * 420/429/5xx or gets no answer is retried with a backoff (or the server's `Retry-After`) a bounded
 * number of times, then given up with `onGiveUp`, which is how the humans hear about it. A key's
 * queue is bounded too: when full, its oldest waiting call is dropped (the newer ones carry the
 * newer news).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../lib/logging.js';

/** What one attempt came to. A thrown error counts as `unreachable`. */
export type AttemptOutcome =
  /** Sent and accepted. */
  | { kind: 'done' }
  /** Nothing needed sending (already done, or no longer relevant). */
  | { kind: 'skipped'; reason: string }
  /** The API answered with an error status. */
  | { kind: 'rejected'; status: number; retryAfter?: string | null; message: string }
  /** No answer: connection refused, reset, time-out. */
  | { kind: 'unreachable'; message: string }
  /** Not sent, to be tried again later (someone else holds what it needs). */
  | { kind: 'busy'; message: string };

export interface AttemptContext {
  /** 1 on the first attempt. */
  attempt: number;
  /** Resolves when the key's interval allows a request: await it right before sending. */
  ready: () => Promise<void>;
  /** Aborted when the queue is drained and the grace period is over. */
  signal: AbortSignal;
}

export interface RateJob {
  /** Requests of one key are spaced; different keys proceed independently. */
  key: string;
  /** For logs and failure messages: what the call does, never a secret. */
  label: string;
  attempt: (context: AttemptContext) => Promise<AttemptOutcome>;
  /** Called once when the call is given up (attempts spent, refused for good, dropped). */
  onGiveUp?: (reason: string) => void;
  /** Called once when the call is done or skipped. */
  onDone?: () => void;
}

export interface RateQueueOptions {
  log: Logger;
  /** Minimum time between the end of one request of a key and the start of the next (default 1 s). */
  intervalMs?: number;
  /** Attempts per call, the first included (default 5). */
  maxAttempts?: number;
  /** Calls waiting per key before the oldest is dropped (default 50). */
  maxQueued?: number;
  /** First retry delay, doubled each attempt (default 1 s). */
  baseDelayMs?: number;
  /** Longest retry delay; a `Retry-After` asking for more gives the call up (default 30 s). */
  maxDelayMs?: number;
  now?: () => number;
  /** Resolves after `ms`, or early when `signal` aborts; never rejects. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** For the backoff's jitter, in [0, 1). */
  random?: () => number;
}

const RETRYABLE_STATUSES = new Set([420, 429]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status) || status >= 500;
}

/** `Retry-After` as milliseconds from `now`: delta seconds or an HTTP date; undefined when absent or bad. */
export function retryAfterMs(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1_000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const realSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => undefined);

interface KeyState {
  waiting: RateJob[];
  running: Promise<void> | undefined;
  /** A call is being attempted or waiting to retry. */
  busy: boolean;
  /** When the key's last request ended (its answer or its failure). */
  lastEnd: number | undefined;
}

export class RateQueue {
  private readonly keys = new Map<string, KeyState>();
  private readonly stopped = new AbortController();
  private draining = false;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly maxAttempts: number;
  private readonly maxQueued: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(options: RateQueueOptions) {
    this.log = options.log;
    this.intervalMs = options.intervalMs ?? 1_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.maxQueued = Math.max(1, options.maxQueued ?? 50);
    this.baseDelayMs = options.baseDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  /** Queues a call and returns at once; false when the queue is draining (the call is not made). */
  enqueue(job: RateJob): boolean {
    if (this.draining) {
      this.log.warn({ key: job.key, call: job.label }, 'rate queue is draining; call not queued');
      return false;
    }
    const state = this.stateOf(job.key);
    state.waiting.push(job);
    if (state.waiting.length > this.maxQueued) {
      const dropped = state.waiting.shift()!;
      const reason = `dropped: ${this.maxQueued} newer calls were waiting`;
      this.log.warn(
        { key: job.key, call: dropped.label, maxQueued: this.maxQueued },
        'rate queue full; dropped the oldest call',
      );
      this.giveUp(dropped, reason);
    }
    state.running ??= this.pump(state);
    return true;
  }

  /** Calls waiting or running, all keys together. */
  get size(): number {
    let size = 0;
    for (const state of this.keys.values()) size += state.waiting.length + (state.busy ? 1 : 0);
    return size;
  }

  /** Resolves when every queued call has been done or given up. */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.keys.values()].flatMap((state) => (state.running ? [state.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Graceful stop: takes no new calls, lets the queued ones finish for up to `graceMs`, then abandons
   * the rest (logged; an attempt in flight is aborted through its signal).
   */
  async drain(graceMs = 5_000): Promise<void> {
    this.draining = true;
    const timedOut = await Promise.race([
      this.idle().then(() => false),
      delay(graceMs, true, { ref: false }),
    ]);
    if (!timedOut) return;
    this.stopped.abort();
    for (const [key, state] of this.keys) {
      for (const job of state.waiting.splice(0)) {
        this.log.warn({ key, call: job.label }, 'rate queue drained; call abandoned');
      }
    }
    await this.idle();
  }

  private stateOf(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { waiting: [], running: undefined, busy: false, lastEnd: undefined };
      this.keys.set(key, state);
    }
    return state;
  }

  private async pump(state: KeyState): Promise<void> {
    // Not one line of a call runs inside `enqueue`: the caller is never held up.
    await Promise.resolve();
    try {
      for (let job = state.waiting.shift(); job; job = state.waiting.shift()) {
        state.busy = true;
        await this.carryOut(job, state);
        state.busy = false;
      }
    } finally {
      state.busy = false;
      state.running = undefined;
    }
  }

  private async carryOut(job: RateJob, state: KeyState): Promise<void> {
    const signal = this.stopped.signal;
    for (let attempt = 1; ; attempt += 1) {
      if (signal.aborted) {
        this.log.warn({ key: job.key, call: job.label }, 'rate queue drained; call abandoned');
        return;
      }
      const request = { sent: false };
      const ready = async (): Promise<void> => {
        if (state.lastEnd !== undefined) await this.waitUntil(state.lastEnd + this.intervalMs, signal);
        request.sent = true;
      };
      let outcome: AttemptOutcome;
      try {
        outcome = await job.attempt({ attempt, ready, signal });
      } catch (error) {
        outcome = { kind: 'unreachable', message: error instanceof Error ? error.message : String(error) };
      }
      if (request.sent) state.lastEnd = this.now();
      const fields = { key: job.key, call: job.label, attempt };
      if (outcome.kind === 'done' || outcome.kind === 'skipped') {
        if (outcome.kind === 'skipped') this.log.debug({ ...fields, reason: outcome.reason }, 'call skipped');
        this.settle(job);
        return;
      }
      if (outcome.kind === 'rejected' && !isRetryableStatus(outcome.status)) {
        this.log.warn(
          { ...fields, status: outcome.status, error: outcome.message },
          'call refused; giving up',
        );
        this.giveUp(job, outcome.message);
        return;
      }
      if (attempt >= this.maxAttempts) {
        this.log.warn({ ...fields, error: outcome.message }, 'call failed too often; giving up');
        this.giveUp(job, `${outcome.message} (${attempt} attempts)`);
        return;
      }
      const wait = this.retryDelay(outcome, attempt);
      if (wait === undefined) {
        this.giveUp(job, `${outcome.message} (the server asked to wait longer than ${this.maxDelayMs} ms)`);
        return;
      }
      this.log.info({ ...fields, error: outcome.message, retryInMs: wait }, 'call failed; retrying');
      await this.sleep(wait, signal);
    }
  }

  /** Exponential backoff with jitter, or the server's `Retry-After`; undefined: that asks too much. */
  private retryDelay(outcome: AttemptOutcome, attempt: number): number | undefined {
    const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    const jittered = Math.round(backoff / 2 + (this.random() * backoff) / 2);
    if (outcome.kind !== 'rejected') return jittered;
    const asked = retryAfterMs(outcome.retryAfter, this.now());
    if (asked === undefined) return jittered;
    return asked > this.maxDelayMs ? undefined : asked;
  }

  /** Sleeps until `target` by the injected clock (a timer may fire a little early). */
  private async waitUntil(target: number, signal: AbortSignal): Promise<void> {
    for (let left = target - this.now(); left > 0 && !signal.aborted; left = target - this.now()) {
      await this.sleep(left, signal);
    }
  }

  private settle(job: RateJob): void {
    try {
      job.onDone?.();
    } catch (error) {
      this.log.error({ err: error, call: job.label }, 'onDone failed');
    }
  }

  private giveUp(job: RateJob, reason: string): void {
    try {
      job.onGiveUp?.(reason);
    } catch (error) {
      this.log.error({ err: error, call: job.label }, 'onGiveUp failed');
    }
  }
}
