/**
 * A sleep that another part of the process can cut short: pollers (outbox readers, the outbox
 * worker, the timer poller) sleep between looks for work, and a local commit wakes them at once.
 * Take a `mark()` before looking for work and pass it to `sleep`: a wake-up that arrived while
 * looking then ends the sleep at once instead of being missed until the next poll.
 */
export class Sleeper {
  private readonly wakers = new Set<() => void>();
  private wakeups = 0;

  mark(): number {
    return this.wakeups;
  }

  wake(): void {
    this.wakeups += 1;
    for (const wake of [...this.wakers]) wake();
  }

  sleep(ms: number, since: number = this.wakeups): Promise<void> {
    if (since !== this.wakeups) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
