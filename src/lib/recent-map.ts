/**
 * A map that keeps only its most recently set entries: what a long-running process remembers per
 * rollback (versions drawn, incidents) without growing with every rollback it ever saw. Forgetting
 * is safe for its users: a forgotten entry costs one more read or redraw, never a wrong answer.
 */
export class RecentMap<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** Sets the value as the newest entry, forgetting the least recently set beyond the capacity. */
  set(key: string, value: V): void {
    this.values.delete(key);
    this.values.set(key, value);
    for (const oldest of this.values.keys()) {
      if (this.values.size <= this.capacity) break;
      this.values.delete(oldest);
    }
  }
}
