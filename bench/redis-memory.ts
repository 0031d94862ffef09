/**
 * Redis memory per rollback: runs typical 6-step rollbacks through the Redis store the way the engine
 * does (declare, approve, six steps, validation, stabilisation, resolved: 14 commits with their audit
 * entries, effects and timers), acknowledges the effects and timers as workers would, and reports
 * MEMORY USAGE of what each rollback leaves behind, plus its share of the per-shard indexes.
 *
 *   npx tsx bench/redis-memory.ts            (REDIS_URL, default redis://127.0.0.1:6379)
 *   MEMORY_BENCH_ROLLBACKS=200 BENCH_SMOKE=1 (20 rollbacks)
 *
 * Everything is written under a unique prefix and deleted afterwards (SCAN + DEL, never FLUSH).
 */
import { Redis } from 'ioredis';
import { createRedisStore } from '../src/store/redis/redis-store.js';
import { KeySpace } from '../src/store/redis/keys.js';
import type { Commit, StoredRollback } from '../src/store/store.js';
import { deleteKeysWithPrefix } from '../test/support/redis-cleanup.js';
import { sized } from './kit.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench-memory:${process.pid}-${Date.now().toString(36)}`;
const ROLLBACKS = sized('MEMORY_BENCH_ROLLBACKS', 200, 20);
const STEPS = ['scale-canary', 'argo-abort', 'kubectl-undo', 'wait-rollout', 'flag-off', 'purge-cdn'];

/** A persisted snapshot of the size the rollback machine keeps: plan and policy copies, step states. */
function snapshot(id: string, state: string, done: number): unknown {
  return {
    status: state === 'resolved' ? 'done' : 'active',
    value: state === 'executing' ? { executing: 'running' } : state,
    historyValue: {},
    children: {},
    context: {
      rollbackId: id,
      service: 'user-service',
      environment: 'production',
      strategy: 'kubernetes-undo',
      fromVersion: 'v1.4.2',
      toVersion: 'v1.4.1',
      reason: '5xx spike after deploy',
      declaredBy: 'U024BE7LH',
      incidentStartedAt: 1_700_000_000_000,
      thread: { channel: 'C0123456789', ts: '1700000000.123456', cardTs: '1700000001.000200' },
      policy: {
        name: 'default',
        roles: ['on-call-engineer', 'team-lead', 'engineering-manager', 'vp-engineering', 'cto'],
        tiers: [0, 15, 30, 60].map((fromMinute, n) => ({ fromMinute, role: n, notify: n + 1 })),
        forbidSelfApproval: true,
        twoApproversInProduction: true,
      },
      steps: STEPS.map((name, n) => ({
        name,
        executor: n === 4 ? 'feature-flag' : 'kubernetes',
        params: { namespace: 'prod', deployment: 'user-service', timeout: '5m', revision: 'previous' },
        onFailure: 'ask',
        status: n < done ? 'succeeded' : 'pending',
        startedAt: n < done ? 1_700_000_100_000 + n * 30_000 : null,
        endedAt: n < done ? 1_700_000_120_000 + n * 30_000 : null,
        output: n < done ? 'deployment.apps/user-service rolled back\nwaiting for rollout: 3/3 ready' : '',
      })),
      checks: ['health', 'error-rate', 'p99-latency'].map((name) => ({ name, status: 'pending' })),
      approvals: [{ user: 'U07QK2M1Z', role: 'team-lead', tier: 1, at: 1_700_000_050_000 }],
      deadlines: { escalation: { seq: 3, at: 1_700_001_800_000 }, stabilisation: { seq: 1, at: 0 } },
    },
  };
}

/** The 14 transitions of a typical rollback, each with its effects and timers. */
const TRANSITIONS: Array<{ state: string; event: string; effects: string[]; timers: string[] }> = [
  {
    state: 'declared',
    event: 'DECLARE',
    effects: ['post-card', 'notify-tier'],
    timers: ['escalate', 'remind'],
  },
  { state: 'authorized', event: 'APPROVE', effects: ['update-card', 'freeze-on'], timers: [] },
  { state: 'executing', event: 'PREFLIGHT_OK', effects: ['run-step', 'update-card'], timers: [] },
  ...STEPS.map((_, n) => ({
    state: n < 5 ? 'executing' : 'validating',
    event: 'STEP_SUCCEEDED',
    effects: n < 5 ? ['post-step-output', 'run-step', 'update-card'] : ['post-step-output', 'run-checks'],
    timers: [],
  })),
  { state: 'validating', event: 'CHECK_PASSED', effects: ['update-card'], timers: [] },
  { state: 'validating', event: 'CHECK_PASSED', effects: ['update-card'], timers: [] },
  { state: 'validating', event: 'CHECKS_PASSED', effects: ['update-card'], timers: ['stabilised'] },
  { state: 'validating', event: 'STATUS_UPDATE', effects: ['post-update'], timers: ['status-update'] },
  {
    state: 'resolved',
    event: 'STABILISED',
    effects: ['post-resolved', 'freeze-off', 'sns', 'statuspage'],
    timers: [],
  },
];

async function runRollback(store: Awaited<ReturnType<typeof createRedisStore>>, id: string): Promise<void> {
  let rollback: StoredRollback | undefined;
  let done = 0;
  for (const [n, t] of TRANSITIONS.entries()) {
    const version = n + 1;
    if (t.event === 'STEP_SUCCEEDED') done += 1;
    const at = 1_700_000_000_000 + n * 20_000;
    rollback = {
      id,
      service: 'user-service',
      environment: 'production',
      version,
      state: t.state,
      final: t.state === 'resolved',
      snapshot: snapshot(id, t.state, done),
      createdAt: rollback?.createdAt ?? at,
      updatedAt: at,
    };
    const commit: Commit = {
      rollback,
      expectedVersion: version - 1,
      audit: [{ version, at, event: t.event, by: n === 1 ? 'U07QK2M1Z' : 'system', state: t.state }],
      effects: t.effects.map((kind, index) => ({
        id: `${id}:${version}:${index}`,
        rollbackId: id,
        version,
        kind,
        payload: { step: done, text: `${t.event} for user-service` },
        createdAt: at,
      })),
      timers: t.timers.map((timer, seq) => ({
        rollbackId: id,
        timer,
        seq: version * 10 + seq,
        dueAt: at + 900_000,
      })),
    };
    const result = await store.commit(commit);
    if (!result.ok) throw new Error(`commit ${id} v${version} conflicted`);
  }
}

async function memoryUsage(redis: Redis, key: string): Promise<number> {
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

async function main(): Promise<void> {
  const redis = new Redis(url);
  const store = await createRedisStore({ url, prefix });
  const keys = new KeySpace(prefix, 16);
  try {
    const ids = Array.from({ length: ROLLBACKS }, (_, n) => `rb-${(1_000_000 + n).toString(36)}`);
    for (const id of ids) await runRollback(store, id);

    const sum = async (list: string[]): Promise<number> =>
      (await Promise.all(list.map((key) => memoryUsage(redis, key)))).reduce((a, b) => a + b, 0);
    const shardKeys = (make: (shard: number) => string): string[] => keys.allShards().map(make);
    const perRollback = async (): Promise<Record<string, number>> => ({
      'record hash': (await sum(ids.map((id) => keys.rollback(id)))) / ROLLBACKS,
      'audit stream (14 entries)': (await sum(ids.map((id) => keys.audit(id)))) / ROLLBACKS,
      'outbox (share)': (await sum(shardKeys((s) => keys.outbox(s)))) / ROLLBACKS,
      'timers (share)': (await sum(shardKeys((s) => keys.timers(s)))) / ROLLBACKS,
      'index (share)': (await sum(shardKeys((s) => keys.index(s)))) / ROLLBACKS,
      'active index (share)': (await sum(shardKeys((s) => keys.active(s)))) / ROLLBACKS,
      'service index (share)':
        (await sum(shardKeys((s) => keys.serviceIndex(s, 'user-service')))) / ROLLBACKS,
    });
    const inFlight = await perRollback();

    // Workers carry out and acknowledge every effect and timer; resolved rollbacks leave the active set.
    for (;;) {
      const batch = await store.readEffects('bench', { count: 500 });
      if (batch.length === 0) break;
      await Promise.all(batch.map((delivery) => store.ackEffect(delivery)));
    }
    for (;;) {
      const timers = await store.claimDueTimers(Number.MAX_SAFE_INTEGER, { limit: 500, visibilityMs: 1 });
      if (timers.length === 0) break;
      await Promise.all(timers.map((timer) => store.ackTimer(timer)));
    }
    const settled = await perRollback();
    const snapshotBytes = JSON.stringify((await store.getRollback(ids[0]!))?.snapshot).length;

    const total = (figures: Record<string, number>): number =>
      Object.values(figures).reduce((a, b) => a + b, 0);
    const row = (name: string, a: number, b: number): string =>
      `${name.padEnd(28)} ${Math.round(a).toString().padStart(9)} ${Math.round(b).toString().padStart(9)}`;
    console.log(`Redis memory per rollback (${ROLLBACKS} rollbacks of 6 steps, 14 commits each; ${url})`);
    console.log(`snapshot JSON: ${snapshotBytes} bytes`);
    console.log(`${'bytes (MEMORY USAGE)'.padEnd(28)} ${'unacked'.padStart(9)} ${'settled'.padStart(9)}`);
    for (const name of Object.keys(settled)) console.log(row(name, inFlight[name] ?? 0, settled[name] ?? 0));
    console.log(row('total', total(inFlight), total(settled)));
  } finally {
    await store.close();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  }
}

await main();
