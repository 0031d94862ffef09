/**
 * The faults the simulator injects into Web API calls, per method: a queue of one-off faults (the
 * next N calls), faults for the calls whose arguments match (one message Slack refuses), and a
 * standing one (every call until cleared, or for a while), so a test can make one method fail or
 * hang for as long as a scenario needs while every other method answers as Slack does.
 */
import type { JsonObject } from './json.js';

export type Fault =
  | { kind: 'ratelimited'; retryAfterSeconds: number }
  | { kind: 'http500' }
  | { kind: 'error'; error: string }
  /** No answer at all: the request is held until the client gives up or the simulator stops. */
  | { kind: 'hang' };

interface Matching {
  method: string;
  match: (args: JsonObject) => boolean;
  fault: Fault;
  left: number;
}

export class FaultRules {
  private readonly queued = new Map<string, Fault[]>();
  private readonly standing = new Map<string, { fault: Fault; until: number }>();
  private matching: Matching[] = [];

  constructor(private readonly now: () => number) {}

  /** The next `times` calls to `method` get `fault`, before any standing fault. */
  next(method: string, fault: Fault, times: number): void {
    const queue = this.queued.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(fault);
    this.queued.set(method, queue);
  }

  /** Every call to `method` gets `fault` until `clear`, or for `ms` (on the simulator's clock). */
  always(method: string, fault: Fault, ms = Infinity): void {
    this.standing.set(method, { fault, until: this.now() + ms });
  }

  /** The next `times` calls to `method` whose arguments `match` get `fault`, before any other. */
  when(method: string, match: (args: JsonObject) => boolean, fault: Fault, times: number): void {
    this.matching.push({ method, match, fault, left: times });
  }

  /** Removes the faults of `method` (queued and standing), or of every method. */
  clear(method?: string): void {
    this.matching = this.matching.filter((rule) => method !== undefined && rule.method !== method);
    if (method === undefined) {
      this.queued.clear();
      this.standing.clear();
    } else {
      this.queued.delete(method);
      this.standing.delete(method);
    }
  }

  /** The fault for this call to `method`, if any (a queued or matching one is used up). */
  take(method: string, args: JsonObject): Fault | undefined {
    const rule = this.matching.find((r) => r.method === method && r.left > 0 && r.match(args));
    if (rule) {
      rule.left -= 1;
      return rule.fault;
    }
    const queued = this.queued.get(method)?.shift();
    if (queued) return queued;
    const standing = this.standing.get(method);
    if (standing === undefined) return undefined;
    if (this.now() < standing.until) return standing.fault;
    this.standing.delete(method);
    return undefined;
  }
}
