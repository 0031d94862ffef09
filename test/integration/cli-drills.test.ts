/**
 * `rollback-bot validate` and the drill records: read from the bot's Redis (a real one, under this
 * run's own prefix) when REDIS_URL is set, and a note on stderr when they cannot be read.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DrillRecords } from '../../src/app/drill-records.js';
import { runValidate } from '../../src/cli/validate.js';
import { createRedisStore } from '../../src/store/redis/redis-store.js';
import { deleteKeysWithPrefix } from '../support/redis-cleanup.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `rollback-bot-test:cli-drills:${process.pid}-${randomBytes(4).toString('hex')}`;
const NOW = Date.UTC(2026, 10, 23, 6, 0, 0);
const DAY = 86_400_000;
const PLANS = 'test/fixtures/e2e/plans.yaml';

afterAll(async () => {
  const admin = new Redis(REDIS_URL);
  await deleteKeysWithPrefix(admin, prefix);
  await admin.quit();
});

async function validate(env: Record<string, string>, redisPrefix = prefix) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runValidate(
    [PLANS],
    { argv: [], env, cwd: process.cwd(), out: (t) => out.push(t), err: (t) => err.push(t) },
    { redisPrefix, now: () => NOW, timeoutMs: 3_000 },
  );
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('validate and drill records', () => {
  it('without REDIS_URL, says on stderr that drill records were not checked and leaves stdout as it was', async () => {
    const { code, stdout, stderr } = await validate({});
    expect(code).toBe(0);
    expect(stdout).toBe('1 plan, 1 authority policy, 0 communications: 0 errors, 0 warnings\n');
    expect(stderr).toBe(
      "drill records were not checked: REDIS_URL is not set (set it to the bot's Redis to warn about production strategies not drilled in 30 days)\n",
    );
  });

  it('with REDIS_URL, warns while the production strategy has no drill within 30 days', async () => {
    // Nothing under the prefix yet: never drilled, and the check writes nothing.
    const never = await validate({ REDIS_URL });
    expect(never.code).toBe(0);
    expect(never.stderr).toBe('');
    expect(never.stdout).toBe(
      'plan checkout  spec.defaultStrategy  warning: production strategy "blue-green" has not been drilled in the last 30 days (never drilled): run `/rollback drill checkout` (see docs/operations/freeze-and-drills.md#drills)\n' +
        '1 plan, 1 authority policy, 0 communications: 0 errors, 1 warning\n',
    );
    const admin = new Redis(REDIS_URL);
    expect(await admin.keys(`${prefix}:*`)).toEqual([]);
    await admin.quit();

    const store = await createRedisStore({ url: REDIS_URL, prefix });
    const drills = new DrillRecords(store);
    await drills.record({
      service: 'checkout',
      strategy: 'blue-green',
      rollbackId: 'rb-old',
      at: NOW - 31 * DAY,
      by: 'U1',
    });
    expect((await validate({ REDIS_URL })).stdout).toContain(
      '(last tested: 2026-10-23 (drill rb-old)): run `/rollback drill checkout`',
    );
    await drills.record({
      service: 'checkout',
      strategy: 'blue-green',
      rollbackId: 'rb-recent',
      at: NOW - 3 * DAY,
      by: 'U1',
    });
    // A late repeat of the older drill does not replace the newer one.
    await drills.record({
      service: 'checkout',
      strategy: 'blue-green',
      rollbackId: 'rb-old',
      at: NOW - 31 * DAY,
      by: 'U1',
    });
    expect(await drills.last('checkout', 'blue-green')).toMatchObject({ rollbackId: 'rb-recent' });
    expect((await validate({ REDIS_URL })).stdout).toBe(
      '1 plan, 1 authority policy, 0 communications: 0 errors, 0 warnings\n',
    );
    await store.close();
  });

  it('when Redis does not answer, says so in one line and does not fail the validation', async () => {
    const { code, stdout, stderr } = await validate({ REDIS_URL: 'redis://127.0.0.1:1' });
    expect(code).toBe(0);
    expect(stdout).toBe('1 plan, 1 authority policy, 0 communications: 0 errors, 0 warnings\n');
    expect(stderr).toMatch(
      /^drill records were not checked: Redis at redis:\/\/127\.0\.0\.1:1 did not answer \(.+\)\n$/,
    );
  });
});
