/**
 * The faults the simulator injects into Web API calls, per method: a queue of one-off faults (the
 * next N calls) and a standing one (every call until cleared), so a test can make one method fail
 * or hang for as long as a scenario needs while every other method answers as Slack does.
 */
export type Fault =
  | { kind: 'ratelimited'; retryAfterSeconds: number }
  | { kind: 'http500' }
  | { kind: 'error'; error: string }
  /** No answer at all: the request is held until the client gives up or the simulator stops. */
  | { kind: 'hang' };

export class FaultRules {
  private readonly queued = new Map<string, Fault[]>();
  private readonly standing = new Map<string, Fault>();

  /** The next `times` calls to `method` get `fault`, before any standing fault. */
  next(method: string, fault: Fault, times: number): void {
    const queue = this.queued.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(fault);
    this.queued.set(method, queue);
  }

  /** Every call to `method` gets `fault` until `clear`. */
  always(method: string, fault: Fault): void {
    this.standing.set(method, fault);
  }

  /** Removes the faults of `method` (queued and standing), or of every method. */
  clear(method?: string): void {
    if (method === undefined) {
      this.queued.clear();
      this.standing.clear();
    } else {
      this.queued.delete(method);
      this.standing.delete(method);
    }
  }

  /** The fault for this call to `method`, if any (a queued one is used up). */
  take(method: string): Fault | undefined {
    return this.queued.get(method)?.shift() ?? this.standing.get(method);
  }
}
