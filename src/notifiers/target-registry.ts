/**
 * Stakeholder targets by kind, in the order they are told. Adding a target is one folder under
 * `targets/` and one `register` call in `createStakeholders`; the fan-out never names a target.
 */
import type { StakeholderTarget } from './target.js';

export class StakeholderRegistry {
  readonly #targets = new Map<string, StakeholderTarget>();

  register<S, M>(target: StakeholderTarget<S, M>): this {
    if (this.#targets.has(target.kind)) {
      throw new Error(`stakeholder target "${target.kind}" is registered twice`);
    }
    this.#targets.set(target.kind, target);
    return this;
  }

  /** Undefined for a kind this process cannot tell (not built in, or not configured: no API key). */
  get(kind: string): StakeholderTarget | undefined {
    return this.#targets.get(kind);
  }

  kinds(): string[] {
    return [...this.#targets.keys()];
  }

  /** In registration order: the order in which one notice reaches them. */
  targets(): StakeholderTarget[] {
    return [...this.#targets.values()];
  }
}
