/**
 * Executors that load a heavy library lazily have it loaded ahead, at start-up, for the kinds the
 * plans name and only those: a bot whose plans use no kubernetes step never loads the client.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { executorKindsOf, type RollbackPlan } from '../../../src/domain/plan.js';
import type { Executor } from '../../../src/executors/executor.js';
import { ExecutorRegistry } from '../../../src/executors/registry.js';

function lazy(kind: string, loaded: string[]): Executor<unknown> {
  return {
    kind,
    description: kind,
    params: z.unknown(),
    preload: () => {
      loaded.push(kind);
      return Promise.resolve();
    },
    run: () => Promise.resolve({ outcome: 'succeeded', output: {}, summary: 'done' }),
  };
}

describe('preloading executors', () => {
  it('names every kind a plan uses: steps, checks, watches and after-steps of every strategy', () => {
    const spec = (uses: string) => ({ name: uses, uses, with: {} });
    const plan = {
      strategies: {
        revert: {
          steps: [{ ...spec('kubernetes'), onFailure: 'abort', database: false }],
          validate: [spec('http')],
          watch: { everyMs: 1_000, checks: [spec('prometheus')] },
          after: [{ ...spec('aws-ecs'), delayMs: 0 }],
        },
        flag: { steps: [{ ...spec('feature-flag'), onFailure: 'abort', database: false }], validate: [] },
      },
    } as unknown as RollbackPlan;
    expect([...executorKindsOf(plan)].sort()).toEqual([
      'aws-ecs',
      'feature-flag',
      'http',
      'kubernetes',
      'prometheus',
    ]);
  });

  it('loads the named kinds once each, and no other', async () => {
    const loaded: string[] = [];
    const registry = new ExecutorRegistry()
      .register(lazy('kubernetes', loaded))
      .register(lazy('aws-ecs', loaded));
    await registry.preload(['http', 'kubernetes', 'kubernetes', 'unknown']);
    expect(loaded).toEqual(['kubernetes']);
  });
});
