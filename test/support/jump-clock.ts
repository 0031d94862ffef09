/**
 * Virtual time for code that takes `now` and `sleep`: a sleep moves the clock forward by its length
 * and returns at once, so minutes of backoff take no real time. The clock only ever moves forward,
 * so anything measured on it (a server's "1 request per second" included) sees every wait a caller
 * made at least as long as it asked; concurrent sleepers make it jump further, never less.
 */
export class JumpClock {
  private time: number;
  /** Every sleep asked for, in order. */
  readonly sleeps: number[] = [];

  constructor(start = Date.UTC(2026, 10, 23, 8, 0, 0)) {
    this.time = start;
  }

  readonly now = (): number => this.time;

  readonly sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    if (signal?.aborted) return;
    this.time += Math.max(0, ms);
    // Let other tasks run, as a real sleep would.
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
}
