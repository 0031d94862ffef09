/**
 * Load: 200 rollbacks of different services declared and approved at once over real Redis, three
 * real command steps and an automatic check each, on two engine runtimes sharing the store (two
 * replicas' workers). Every one reaches `resolved` with the full history, each step run once.
 * In `npm run test:soak` (a minute or two); `ROLLBACK_LOAD` changes the count.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/store/redis/redis-store.js';
import { MINUTE, ROLES, T0, USERS } from '../support/domain-fixtures.js';
import { commandRollback, commandStep, startHarness, type Harness } from '../support/engine-harness.js';
import { deleteKeysWithPrefix } from '../support/redis-cleanup.js';

const COUNT = Number(process.env['ROLLBACK_LOAD'] ?? 200);
const url = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `rollback-bot-test:load:${randomBytes(4).toString('hex')}`;

let store: RedisStore | undefined;
let dir: string | undefined;
const replicas: Harness[] = [];
afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.runtime.stop(2_000)));
  await store?.close();
  const admin = new Redis(url);
  await deleteKeysWithPrefix(admin, prefix);
  await admin.quit();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

it(`takes ${COUNT} rollbacks at once to resolved, each step once, with complete history`, async () => {
  store = await createRedisStore({ url, prefix });
  dir = await mkdtemp(path.join(os.tmpdir(), 'rollback-bot-load-'));
  const runs = path.join(dir, 'runs');
  replicas.push(startHarness(store), startHarness(store));
  const ids = Array.from({ length: COUNT }, (_, i) => `rb-load-${String(i).padStart(3, '0')}`);
  await Promise.all(
    ids.map(async (id) => {
      const input = commandRollback(id, {
        strategy: {
          ...commandRollback(id).strategy,
          steps: ['drain', 'switch', 'verify'].map((name) =>
            commandStep(name, ['sh', '-c', `echo "${id} ${name}" >> "${runs}"`]),
          ),
          validate: [{ name: 'Probe', uses: 'command', with: { argv: ['true'] } }],
        },
      });
      const engine = replicas[Number(id.slice(-1)) % 2]!.runtime.engine;
      expect((await engine.declare(input, input, T0, USERS.declarer)).ok).toBe(true);
      const approved = await engine.dispatch(id, {
        type: 'APPROVE',
        by: USERS.oncall,
        roles: ROLES.oncall,
        at: T0 + MINUTE,
      });
      expect(approved.ok).toBe(true);
    }),
  );

  await expect
    .poll(
      async () => (await Promise.all(ids.map((id) => store!.getRollback(id)))).filter((r) => r?.final).length,
      { timeout: 240_000, interval: 500 },
    )
    .toBe(COUNT);
  const finals = await Promise.all(ids.map((id) => store!.getRollback(id)));
  expect(finals.filter((rollback) => rollback?.state !== 'resolved').map((r) => r?.id)).toEqual([]);
  // Each step of each rollback ran exactly once.
  const lines = (await readFile(runs, 'utf8')).trim().split('\n');
  expect(lines).toHaveLength(COUNT * 3);
  expect(new Set(lines).size).toBe(COUNT * 3);
  // Complete history: declared, approved, three steps started and succeeded, the check, resolved.
  for (const id of ids) {
    const events = (await store.readAudit(id)).map((entry) => entry.event);
    expect(
      events.filter((event) => event === 'STEP_STARTED'),
      id,
    ).toHaveLength(3);
    expect(
      events.filter((event) => event === 'STEP_SUCCEEDED'),
      id,
    ).toHaveLength(3);
    expect(events[0], id).toBe('DECLARE');
    expect(events, id).toContain('APPROVE');
    expect(events, id).toContain('CHECK_PASSED');
  }
}, 300_000);
