/**
 * Runs tasks one after another per key, concurrently across keys. The engine queues dispatches per
 * rollback inside one process, so only replicas (not every request) compete on the version guard;
 * the incident service orders its work per service and environment, the notice fan-out per
 * rollback. A utility of no layer, beside `Coalescer`: src/app need not reach into src/engine.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  get size(): number {
    return this.tails.size;
  }
}
