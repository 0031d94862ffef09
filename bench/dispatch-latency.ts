/**
 * Dispatch latency: how long one `engine.dispatch` (read, decide, atomic commit) takes on the real
 * Redis store and on the memory store. 1,000 rollbacks (4 steps, no checks, stabilize 0, the standard
 * policy) each take every accepted event from approval to resolved: APPROVE, then STEP_STARTED and
 * STEP_SUCCEEDED for each step; the last STEP_SUCCEEDED resolves the rollback (no checks, stabilize 0).
 * Measured sequentially (1 in flight) and with 16 rollbacks in parallel. Declarations are not timed.
 *
 *   npx tsx bench/dispatch-latency.ts        (REDIS_URL, default redis://127.0.0.1:6379)
 *   DISPATCH_BENCH_ROLLBACKS=1112 BENCH_SMOKE=1 (50 rollbacks)
 *
 * Everything is written under a unique prefix and deleted afterwards (SCAN + DEL, never FLUSH).
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { AuthorityPolicy, StrategySpec } from '../src/domain/plan.js';
import type { RollbackInput } from '../src/domain/rollback-types.js';
import type { EngineEvent } from '../src/engine/decider.js';
import { Engine } from '../src/engine/engine.js';
import { rollbackDecider } from '../src/engine/rollback-decider.js';
import { silentLogger } from '../src/lib/logging.js';
import { createRedisStore, MemoryStore, type Store } from '../src/store/index.js';
import { standardPolicy } from '../test/support/domain-fixtures.js';
import { deleteKeysWithPrefix } from '../test/support/redis-cleanup.js';
import { sized, summary } from './kit.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench-dispatch:${process.pid}-${Date.now().toString(36)}`;
/** Enough rollbacks of 9 accepted events each for at least 10,000 dispatches per run. */
const ROLLBACKS = sized('DISPATCH_BENCH_ROLLBACKS', 1_112, 50);
const PARALLEL = 16;
const STEPS = 4;

const policy: AuthorityPolicy = standardPolicy();

const strategy: StrategySpec = {
  name: 'bench',
  steps: Array.from({ length: STEPS }, (_, n) => ({
    name: `Step ${n + 1}`,
    uses: 'command',
    with: { argv: ['true'] },
    onFailure: { kind: 'ask' as const },
    database: false,
  })),
  validate: [],
  stabilizeMs: 0,
};

type TimelessEvent = { type: string; by: string } & Record<string, unknown>;

/** The accepted events of one rollback, from approval to resolved. */
function journey(): TimelessEvent[] {
  const events: TimelessEvent[] = [{ type: 'APPROVE', by: 'U0ONCALL1', roles: ['on-call-engineer'] }];
  for (let step = 0; step < STEPS; step++) {
    events.push({ type: 'STEP_STARTED', by: 'system', step, attempt: 1 });
    events.push({ type: 'STEP_SUCCEEDED', by: 'system', step, attempt: 1, output: {} });
  }
  return events;
}
const EVENTS = journey();

export interface Figures {
  store: string;
  mode: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  perSecond: number;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

async function measure(storeName: string, store: Store, mode: string, inFlight: number): Promise<Figures> {
  const engine = new Engine<RollbackInput>({ store, decider: rollbackDecider, log: silentLogger });
  const ids: string[] = [];
  for (let n = 0; n < ROLLBACKS; n++) {
    const id = `rb-${mode}-${n}`;
    const at = Date.now();
    const input: RollbackInput = {
      id,
      service: `svc-${mode}-${n}`,
      environment: 'production',
      strategy,
      policy,
      fromVersion: 'v1.5.0',
      toVersion: 'v1.4.1',
      reason: 'bench',
      declaredBy: 'U0DECL',
      at,
      incidentStartedAt: at,
      trigger: { kind: 'manual' },
      drill: false,
      requiresHuman: false,
    };
    const declared = await engine.declare(
      { id, service: input.service, environment: input.environment },
      input,
      at,
      'U0DECL',
    );
    if (!declared.ok) throw new Error(`declare ${id}: ${declared.message}`);
    ids.push(id);
  }

  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let n = next++; n < ids.length; n = next++) {
      const id = ids[n]!;
      for (const event of EVENTS) {
        const started = performance.now();
        const stamped: EngineEvent = { ...event, at: Date.now() };
        const result = await engine.dispatch(id, stamped);
        latencies.push(performance.now() - started);
        if (!result.ok) throw new Error(`${id} ${event.type} refused: ${result.message}`);
      }
      const final = await store.getRollback(id);
      if (final?.state !== 'resolved') throw new Error(`${id} ended ${final?.state ?? 'missing'}`);
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const wallMs = performance.now() - began;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    store: storeName,
    mode,
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    perSecond: (sorted.length / wallMs) * 1_000,
  };
}

const ms = (value: number): string => value.toFixed(3).padStart(8);

function row(f: Figures): string {
  return (
    `${f.store.padEnd(7)} ${f.mode.padEnd(12)} ${String(f.count).padStart(6)} ` +
    `${ms(f.p50)} ${ms(f.p90)} ${ms(f.p99)} ${ms(f.max)} ${Math.round(f.perSecond).toString().padStart(9)}`
  );
}

async function main(): Promise<void> {
  console.log(
    `Dispatch latency: ${ROLLBACKS} rollbacks x ${EVENTS.length} accepted events ` +
      `(APPROVE, STEP_STARTED/STEP_SUCCEEDED x${STEPS}; the last one resolves), Redis at ${url}`,
  );
  console.log(
    `${'store'.padEnd(7)} ${'mode'.padEnd(12)} ${'count'.padStart(6)} ${'p50 ms'.padStart(8)} ` +
      `${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'events/s'.padStart(9)}`,
  );
  const figures: Figures[] = [];
  const record = (f: Figures): void => {
    figures.push(f);
    console.log(row(f));
  };

  const memory = new MemoryStore();
  try {
    record(await measure('memory', memory, 'sequential', 1));
    record(await measure('memory', memory, `parallel-${PARALLEL}`, PARALLEL));
  } finally {
    await memory.close();
  }

  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const store = await createRedisStore({ url, prefix });
  try {
    record(await measure('redis', store, 'sequential', 1));
    record(await measure('redis', store, `parallel-${PARALLEL}`, PARALLEL));
  } finally {
    await store.close();
    await redis.connect();
    const deleted = await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
    console.log(`cleaned up ${deleted} keys under ${prefix}`);
  }

  summary(
    'dispatch-latency',
    figures
      .map(
        (f) =>
          `${f.store}/${f.mode} p50 ${f.p50.toFixed(2)} ms p99 ${f.p99.toFixed(2)} ms ${Math.round(f.perSecond)}/s`,
      )
      .join('; '),
  );
}

await main();
