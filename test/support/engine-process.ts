/**
 * A whole engine in its own process, as a bot replica would run it, for crash and shutdown tests:
 * real Redis (REDIS_URL, STORE_PREFIX), real executors, the real clock. Prints `ready` once working;
 * on SIGTERM shuts down gracefully and prints how long that took.
 */
import { SecretMask } from '../../src/domain/secret-mask.js';
import { randomUUID } from 'node:crypto';
import { createEngineRuntime } from '../../src/engine/runtime.js';
import { defaultRegistry } from '../../src/executors/default-registry.js';
import { createPlanResolver, stepTargetDecider } from '../../src/executors/plan-resolver.js';
import { DEFAULT_STEP_TIMEOUT_MAX_MS } from '../../src/config/env.js';
import { createStepPerformer } from '../../src/executors/step-performer.js';
import { createLogger } from '../../src/lib/logging.js';
import { createRedisStore } from '../../src/store/redis/redis-store.js';

const log = createLogger('warn');
const store = await createRedisStore({
  url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  prefix: process.env['STORE_PREFIX'] ?? 'rollback-bot-test:process',
});
const registry = defaultRegistry();
// As the bot does before its workers start (for the kinds its plans use: here any may come).
await registry.preload(registry.kinds());
const runtime = createEngineRuntime({
  store,
  log,
  now: Date.now,
  // As the bot wires it: a step's first attempt records its target, every later one converges on it.
  targetFor: stepTargetDecider(createPlanResolver({ registry, env: process.env, now: Date.now })),
  workerId: `process-${process.pid}-${randomUUID().slice(0, 6)}`,
  ...createStepPerformer({
    registry,
    env: process.env,
    secrets: new SecretMask(),
    log,
    maxStepMs: DEFAULT_STEP_TIMEOUT_MAX_MS,
  }),
  leaseTtlMs: Number(process.env['LEASE_TTL_MS'] ?? 2_000),
  timerPollMs: 100,
  outboxPollMs: 50,
});
runtime.handle('notify', () => Promise.resolve());
runtime.handle('freeze', () => Promise.resolve());
runtime.start();
process.on('SIGTERM', () => {
  const started = performance.now();
  void runtime
    .stop(Number(process.env['GRACE_MS'] ?? 1_000))
    .then(() => store.close())
    .then(() => {
      process.stdout.write(`stopped in ${Math.round(performance.now() - started)} ms\n`);
      process.exit(0);
    });
});
process.stdout.write('ready\n');
