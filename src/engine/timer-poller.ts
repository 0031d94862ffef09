/**
 * Fires durable timers (tier changes, auto-trigger delays, stabilisation windows, reminders) as
 * TIMER events. Whichever replica claims a timer first fires it; a claimer that dies before
 * acknowledging lets it come back after the visibility window. The machine drops a timer whose
 * sequence number is no longer current, so a repeat or a stale timer is harmless.
 */
import type { Logger } from 'pino';
import { Sleeper } from '../lib/sleeper.js';
import type { Timers } from '../store/store.js';
import type { Engine } from './engine.js';

export interface TimerPollerOptions {
  store: Timers;
  engine: Pick<Engine<unknown>, 'dispatch'>;
  log: Logger;
  now: () => number;
  /** Longest sleep between two looks at the timer set. */
  pollMs?: number;
  visibilityMs?: number;
}

export class TimerPoller {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly sleeper = new Sleeper();

  constructor(private readonly options: TimerPollerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks at the timer set at once (after a commit that scheduled one, or a clock jump in tests). */
  nudge(): void {
    this.sleeper.wake();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.sleeper.wake();
    await this.loop;
  }

  /** Fires every timer due now; returns how many fired. */
  async fireDue(): Promise<number> {
    const { store, engine, log, now } = this.options;
    const due = await store.claimDueTimers(now(), {
      limit: 100,
      visibilityMs: this.options.visibilityMs ?? 30_000,
    });
    for (const timer of due) {
      const result = await engine.dispatch(timer.rollbackId, {
        type: 'TIMER',
        timer: timer.timer,
        seq: timer.seq,
        at: Math.max(now(), timer.dueAt),
        by: 'system',
      });
      if (!result.ok) log.debug({ timer, reason: result.message }, 'timer dropped');
      await store.ackTimer(timer);
    }
    return due.length;
  }

  private async run(): Promise<void> {
    const { store, log, now } = this.options;
    const pollMs = this.options.pollMs ?? 1_000;
    while (!this.stopping.signal.aborted) {
      const mark = this.sleeper.mark();
      let sleepMs = pollMs;
      try {
        if ((await this.fireDue()) > 0) continue;
        const next = await store.nextTimerDueAt();
        if (next !== null) sleepMs = Math.max(10, Math.min(pollMs, next - now()));
      } catch (error) {
        log.error({ err: error }, 'timer poll failed; retrying');
      }
      await this.sleeper.sleep(sleepMs, mark);
    }
  }
}
