/**
 * Runs a task per key one at a time; asking again while it runs makes exactly one more run, which
 * sees everything asked for meanwhile. A burst of requests for one key costs two runs, not one each
 * (Slack message redraws, incident thread syncs).
 */
export class Coalescer {
  private readonly running = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();

  run(key: string, task: () => Promise<void>): Promise<void> {
    const running = this.running.get(key);
    if (running) {
      this.dirty.add(key);
      return running;
    }
    const done = (async () => {
      try {
        do {
          this.dirty.delete(key);
          await task();
        } while (this.dirty.has(key));
      } finally {
        this.running.delete(key);
      }
    })();
    this.running.set(key, done);
    return done;
  }

  /** Resolves once nothing runs (tests and shutdown wait on it). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }
}
