/**
 * Executors by kind. Adding an executor is one folder and one `register` call in
 * `defaultRegistry`; nothing else changes.
 */
import { didYouMean } from '../schema/did-you-mean.js';
import { issuesToProblems, type SchemaProblem } from '../schema/issues.js';
import type { Executor } from './executor.js';

export class ExecutorRegistry {
  readonly #executors = new Map<string, Executor<unknown>>();

  register<P>(executor: Executor<P>): this {
    if (this.#executors.has(executor.kind)) {
      throw new Error(`executor "${executor.kind}" is registered twice`);
    }
    this.#executors.set(executor.kind, executor);
    return this;
  }

  get(kind: string): Executor<unknown> | undefined {
    return this.#executors.get(kind);
  }

  kinds(): string[] {
    return [...this.#executors.keys()].sort();
  }

  /** Loads ahead what the executors of these kinds load lazily (`Executor.preload`). */
  async preload(kinds: Iterable<string>): Promise<void> {
    const loads: Array<Promise<void>> = [];
    for (const kind of new Set(kinds)) {
      const executor = this.#executors.get(kind);
      if (executor?.preload) loads.push(executor.preload());
    }
    await Promise.all(loads);
  }

  /** Problems in a step's `with`, paths relative to it; an unknown kind is one problem at the root. */
  validateParams(kind: string, params: unknown): SchemaProblem[] {
    const executor = this.#executors.get(kind);
    if (!executor) {
      return [
        {
          path: [],
          message: `unknown executor "${kind}"${didYouMean(kind, this.#executors.keys())}; known: ${this.kinds().join(', ')}`,
        },
      ];
    }
    const parsed = executor.params.safeParse(params ?? {});
    return parsed.success ? [] : issuesToProblems(parsed.error.issues, params);
  }
}
