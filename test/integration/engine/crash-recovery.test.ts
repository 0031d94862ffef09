/**
 * Failures of real processes and of Redis itself: a replica killed with SIGKILL mid-step, a graceful
 * SIGTERM, and a Redis restart in the middle of a rollback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../src/engine/engine.js';
import { rollbackDecider } from '../../../src/engine/rollback-decider.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { createRedisStore, type RedisStore } from '../../../src/store/redis/redis-store.js';
import { ROLES, USERS } from '../../support/domain-fixtures.js';
import { commandRollback, commandStep, stepStatuses, waitFor } from '../../support/engine-harness.js';
import { deleteKeysWithPrefix } from '../../support/redis-cleanup.js';
import { startFakeKubeApi } from '../../support/fake-kube-api.js';
import { writeKubeconfig } from '../../support/plan-files.js';
import { startStandaloneRedis } from '../../support/redis-servers.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `rollback-bot-test:crash:${process.pid}-${Date.now().toString(36)}`;
const LEASE_TTL_MS = 2_000;
let admin: Redis;
let store: RedisStore;
const children: ChildProcess[] = [];

function startReplica(redisUrl = REDIS_URL): Promise<{ child: ChildProcess; output: () => string }> {
  // The project's Node runs the replica itself (no npx/tsx wrapper process), so signals reach it.
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/engine-process.ts'], {
    env: { ...process.env, REDIS_URL: redisUrl, STORE_PREFIX: prefix, LEASE_TTL_MS: String(LEASE_TTL_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve({ child, output: () => output });
    });
    child.on('exit', (code) => {
      reject(new Error(`replica exited early with ${code}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else
      child.on('exit', () => {
        resolve();
      });
  });
}

beforeAll(async () => {
  admin = new Redis(REDIS_URL);
  store = await createRedisStore({ url: REDIS_URL, prefix });
});
// Each test's replicas end with it: a replica left running would take the next test's steps.
afterEach(async () => {
  const alive = children.splice(0);
  for (const child of alive) child.kill('SIGKILL');
  await Promise.all(alive.map(exited));
});
afterAll(async () => {
  await store.close();
  await deleteKeysWithPrefix(admin, prefix);
  await admin.quit();
});

const approval = (at: number) => ({ type: 'APPROVE', by: USERS.oncall, roles: ROLES.oncall, at });

describe('crash recovery (real processes, real Redis)', () => {
  it('surfaces a step whose replica was SIGKILLed as interrupted within the lease time, and carries on after Retry', async () => {
    const marker = `/tmp/rollback-bot-crash-${process.pid}-${Date.now()}`;
    const slowOnce = commandStep('Switch traffic', [
      'sh',
      '-c',
      `if [ -f ${marker} ]; then echo switched; else touch ${marker}; exec sleep 20; fi`,
    ]);
    const now = Date.now();
    const input = commandRollback('rb-crash', {
      at: now,
      incidentStartedAt: now,
      strategy: { ...commandRollback('x').strategy, steps: [slowOnce], validate: [] },
    });
    const engine = new Engine({ store, decider: rollbackDecider, log: silentLogger });
    await engine.declare(input, input, now, USERS.declarer);
    const first = await startReplica();
    await engine.dispatch('rb-crash', approval(Date.now()));
    await waitFor(store, 'rb-crash', (r) => stepStatuses(r)[0] === 'running', 20_000);
    // Kill it in the middle of the step: once the command has really begun, not merely been recorded
    // as started (under load the two are seconds apart, and the retry would then do the slow part).
    await expect.poll(() => existsSync(marker), { timeout: 20_000 }).toBe(true);
    first.child.kill('SIGKILL');
    await exited(first.child);
    const killedAt = Date.now();

    await startReplica();
    // Counted from when the new replica is ready: its start-up (tsx compiling the engine) is the
    // machine's speed, seconds to tens of seconds under load, not the recovery's.
    const readyAt = Date.now();
    const interrupted = await waitFor(store, 'rb-crash', (r) => stepStatuses(r)[0] === 'interrupted', 20_000);
    const surfacedAfterMs = Date.now() - Math.max(killedAt, readyAt);
    expect(interrupted.state).toBe('executing');
    // Within the lease time (what is left of it once the replica is ready), with room for a slow poll.
    expect(surfacedAfterMs).toBeLessThan(LEASE_TTL_MS + 10_000);
    const audit = await store.readAudit('rb-crash');
    expect(audit.filter((a) => a.event === 'STEP_STARTED')).toHaveLength(1);

    await engine.dispatch('rb-crash', {
      type: 'RETRY_STEP',
      step: 0,
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: Date.now(),
    });
    const resolved = await waitFor(store, 'rb-crash', (r) => r.final, 20_000);
    expect(resolved.state).toBe('resolved');
    rmSync(marker, { force: true });
  }, 90_000);

  it('a platform step SIGKILLed between its patch and the end of the rollout converges on its recorded target after Retry', async () => {
    const kube = await startFakeKubeApi({ rollout: 'never' });
    try {
      kube.addDeployment({
        namespace: 'checkout',
        name: 'api',
        replicas: 3,
        revisions: [
          { revision: 5, image: 'app:v1.3.0' },
          { revision: 6, image: 'app:v1.4.1' },
          { revision: 7, image: 'app:v1.5.0-BAD' },
        ],
      });
      const kubeconfig = writeKubeconfig(kube);
      const undo = {
        name: 'Roll back api',
        uses: 'kubernetes',
        with: {
          kind: 'Deployment',
          namespace: 'checkout',
          name: 'api',
          kubeconfig,
          pollInterval: '50ms',
          timeout: '60s',
        },
        onFailure: { kind: 'ask' as const },
        database: false,
      };
      const now = Date.now();
      const input = commandRollback('rb-crash-kube', {
        at: now,
        incidentStartedAt: now,
        strategy: { ...commandRollback('x').strategy, steps: [undo], validate: [] },
      });
      const engine = new Engine({ store, decider: rollbackDecider, log: silentLogger });
      await engine.declare(input, input, now, USERS.declarer);
      const first = await startReplica();
      await engine.dispatch('rb-crash-kube', approval(Date.now()));
      const patched = () =>
        kube.requests
          .filter((r) => r.method === 'PATCH')
          .flatMap(
            (r) =>
              JSON.parse(r.body) as { path: string; value?: { spec: { containers: { image: string }[] } } }[],
          )
          .filter((op) => op.path === '/spec/template')
          .map((op) => op.value!.spec.containers[0]!.image);
      // Killed after the patch, while the rollout goes on: the controller renumbers revision 6 to 8,
      // so "the revision before the current one" is now 7, the bad one.
      await expect.poll(patched, { timeout: 20_000 }).toEqual(['app:v1.4.1']);
      first.child.kill('SIGKILL');
      await exited(first.child);
      await startReplica();
      await waitFor(store, 'rb-crash-kube', (r) => stepStatuses(r)[0] === 'interrupted', 20_000);
      kube.setRollout('succeed');
      await engine.dispatch('rb-crash-kube', {
        type: 'RETRY_STEP',
        step: 0,
        by: USERS.oncall,
        roles: ROLES.oncall,
        at: Date.now(),
      });
      const resolved = await waitFor(store, 'rb-crash-kube', (r) => r.final, 20_000);
      expect(resolved.state).toBe('resolved');
      expect(patched()).toEqual(['app:v1.4.1']);
      expect(kube.deployments.get('checkout/api')?.spec.template.spec.containers[0]?.image).toBe(
        'app:v1.4.1',
      );
    } finally {
      await kube.close();
    }
  }, 90_000);

  it('shuts down on SIGTERM within 10 s, handing a running step back as interrupted', async () => {
    const now = Date.now();
    const input = commandRollback('rb-sigterm', {
      service: 'svc-sigterm',
      at: now,
      incidentStartedAt: now,
      strategy: {
        ...commandRollback('x').strategy,
        steps: [commandStep('Long step', ['sleep', '20'])],
        validate: [],
      },
    });
    const engine = new Engine({ store, decider: rollbackDecider, log: silentLogger });
    await engine.declare(input, input, now, USERS.declarer);
    const replica = await startReplica();
    await engine.dispatch('rb-sigterm', approval(Date.now()));
    await waitFor(store, 'rb-sigterm', (r) => stepStatuses(r)[0] === 'running', 20_000);
    const started = Date.now();
    replica.child.kill('SIGTERM');
    await exited(replica.child);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(replica.output()).toMatch(/stopped in \d+ ms/);
    const after = await waitFor(
      store,
      'rb-sigterm',
      (r) => stepStatuses(r)[0] === 'interrupted',
      5_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nreplica said:\n${replica.output()}`);
    });
    expect(after.state).toBe('executing');
  }, 60_000);

  it('loses nothing acknowledged when Redis restarts mid-rollback (AOF, appendfsync always)', async () => {
    const redis = await startStandaloneRedis();
    const own = await createRedisStore({ url: redis.url, prefix });
    try {
      const engine = new Engine({ store: own, decider: rollbackDecider, log: silentLogger });
      const now = Date.now();
      const input = commandRollback('rb-restart', { at: now, incidentStartedAt: now });
      await engine.declare(input, input, now, USERS.declarer);
      await engine.dispatch('rb-restart', approval(now + 1));
      await engine.dispatch('rb-restart', {
        type: 'STEP_STARTED',
        step: 0,
        attempt: 1,
        at: now + 2,
        by: 'system',
      });
      const before = await own.getRollback('rb-restart');
      await redis.restart();
      // The client reconnects by itself; the next dispatch carries on from the acknowledged state.
      const after = await own.getRollback('rb-restart');
      expect(after?.version).toBe(before?.version);
      expect((await own.readAudit('rb-restart')).map((a) => a.event)).toEqual([
        'DECLARE',
        'APPROVE',
        'STEP_STARTED',
      ]);
      const next = await engine.dispatch('rb-restart', {
        type: 'STEP_SUCCEEDED',
        step: 0,
        attempt: 1,
        at: now + 3,
        by: 'system',
      });
      expect(next.ok).toBe(true);
      expect((await own.getRollback('rb-restart'))?.version).toBe((before?.version ?? 0) + 1);
    } finally {
      await own.close();
      await redis.destroy();
    }
    expect(existsSync(redis.dir)).toBe(false);
  }, 60_000);
});
