/**
 * The tamper-evident audit on real Redis: the engine writes chained entries, someone edits, deletes
 * or reorders entries of the stored stream with plain Redis commands, and `rollback-bot audit verify`
 * fails naming the first broken entry. Run in process under this run's own prefix, and once through
 * bin/rollback-bot.js for the parts that touch no bot data.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/cli/audit.js';
import { Engine } from '../../src/engine/engine.js';
import { rollbackDecider } from '../../src/engine/rollback-decider.js';
import { silentLogger } from '../../src/lib/logging.js';
import { DEFAULT_SHARDS, KeySpace } from '../../src/store/redis/keys.js';
import { createRedisStore, type RedisStore } from '../../src/store/redis/redis-store.js';
import { MINUTE, ROLES, T0, USERS, standardPolicy } from '../support/domain-fixtures.js';
import { commandRollback } from '../support/engine-harness.js';
import { deleteKeysWithPrefix } from '../support/redis-cleanup.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `rollback-bot-test:audit:${process.pid}-${randomBytes(4).toString('hex')}`;
const keys = new KeySpace(prefix, DEFAULT_SHARDS);
const root = join(import.meta.dirname, '../..');

let store: RedisStore;
let admin: Redis;

beforeAll(async () => {
  store = await createRedisStore({ url: REDIS_URL, prefix });
  admin = new Redis(REDIS_URL);
});
afterAll(async () => {
  await store.close();
  await deleteKeysWithPrefix(admin, prefix);
  await admin.quit();
});

/** A rollback with `approvals` + 1 entries: its declaration and that many approvals (none completes it). */
async function rollbackWithEntries(id: string, approvals = 5): Promise<void> {
  const engine = new Engine({ store, decider: rollbackDecider, log: silentLogger });
  const policy = standardPolicy({ approvalsRequired: { default: 100, byEnvironment: {} } });
  const input = commandRollback(id, { policy });
  expect((await engine.declare(input, input, T0, USERS.declarer)).ok).toBe(true);
  for (let i = 0; i < approvals; i += 1) {
    const approve = { type: 'APPROVE', by: `U0APPROVER${i}`, roles: ROLES.oncall, at: T0 + (i + 1) * MINUTE };
    expect((await engine.dispatch(id, approve)).ok).toBe(true);
  }
}

const readStream = (id: string): Promise<Array<[id: string, fields: string[]]>> =>
  admin.xrange(keys.audit(id), '-', '+');

/** Writes the stream again with the same entry ids and the given contents, as someone editing it would. */
async function rewriteStream(id: string, contents: string[]): Promise<void> {
  const entries = await readStream(id);
  await admin.del(keys.audit(id));
  for (const [i, json] of contents.entries()) await admin.xadd(keys.audit(id), entries[i]![0], 'e', json);
}

const contentsOf = async (id: string): Promise<string[]> =>
  (await readStream(id)).map(([, fields]) => fields[1]!);

async function verify(args: string[], env: Record<string, string> = { REDIS_URL }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAudit(
    args,
    { argv: [], env, cwd: root, out: (t) => out.push(t), err: (t) => err.push(t) },
    { redisPrefix: prefix, timeoutMs: 3_000 },
  );
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const isoOf = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

describe('rollback-bot audit verify on real Redis', () => {
  it('passes an untouched chain and prints its head', async () => {
    await rollbackWithEntries('rb-intact');
    const head = (await store.getRollback('rb-intact'))?.auditHash;
    expect(head).toMatch(/^[0-9a-f]{64}$/);
    const { code, stdout } = await verify(['verify', 'rb-intact']);
    expect(stdout).toBe(
      `rb-intact  OK  6 entries, chain intact; head ${head}\n1 rollback: 1 OK, 0 unchained, 0 broken\n`,
    );
    expect(code).toBe(0);
  });

  it('names an edited entry: its index, its time and what differs', async () => {
    await rollbackWithEntries('rb-edited');
    const contents = await contentsOf('rb-edited');
    // Entry 3 (the second approval) now says someone else approved.
    const edited = JSON.parse(contents[2]!) as { by: string };
    edited.by = 'U0INTRUDER';
    contents[2] = JSON.stringify(edited);
    await rewriteStream('rb-edited', contents);
    // The stored entry reads back fine: the store does not judge, verify does.
    expect((await store.readAudit('rb-edited'))[2]?.by).toBe('U0INTRUDER');

    const { code, stdout } = await verify(['verify', 'rb-edited']);
    expect(stdout).toBe(
      `rb-edited  BROKEN  entry 3 (version 3, ${isoOf(2)}): its content differs from what was written (it no longer matches its hash)\n` +
        '1 rollback: 0 OK, 0 unchained, 1 broken\n',
    );
    expect(code).toBe(1);
  });

  it('names the entry after a deleted one', async () => {
    await rollbackWithEntries('rb-deleted');
    const entries = await readStream('rb-deleted');
    expect(await admin.xdel(keys.audit('rb-deleted'), entries[3]![0])).toBe(1);
    const { code, stdout } = await verify(['verify', 'rb-deleted']);
    expect(stdout).toContain(
      `rb-deleted  BROKEN  entry 4 (version 5, ${isoOf(4)}): it does not follow the entry before it (an entry was removed, added or moved): version 4 belongs here, found 5\n`,
    );
    expect(code).toBe(1);
  });

  it('names the first of two reordered entries', async () => {
    await rollbackWithEntries('rb-reordered');
    const contents = await contentsOf('rb-reordered');
    [contents[1], contents[2]] = [contents[2]!, contents[1]!];
    await rewriteStream('rb-reordered', contents);
    const { code, stdout } = await verify(['verify', 'rb-reordered']);
    expect(stdout).toContain(
      `rb-reordered  BROKEN  entry 2 (version 3, ${isoOf(2)}): it does not follow the entry before it`,
    );
    expect(code).toBe(1);
  });

  it('names a lost last entry from the record', async () => {
    await rollbackWithEntries('rb-truncated');
    const entries = await readStream('rb-truncated');
    await admin.xdel(keys.audit('rb-truncated'), entries.at(-1)![0]);
    const { code, stdout } = await verify(['verify', 'rb-truncated']);
    expect(stdout).toContain(
      'rb-truncated  BROKEN  entry 6 (version 6, no time): missing: the rollback is at version 6 but its audit ends after 5 entries\n',
    );
    expect(code).toBe(1);
  });

  it('reports entries written before the chain as unchained, not broken', async () => {
    // As an engine before the chain stored them: no head on the record, no hash on the entries.
    await rollbackWithEntries('rb-old', 2);
    const contents = (await contentsOf('rb-old')).map((json) => {
      const { prev: _prev, hash: _hash, ...entry } = JSON.parse(json) as Record<string, unknown>;
      return JSON.stringify(entry);
    });
    await rewriteStream('rb-old', contents);
    await admin.hdel(keys.rollback('rb-old'), 'auditHead');
    const { code, stdout } = await verify(['verify', 'rb-old']);
    expect(stdout).toBe(
      'rb-old  UNCHAINED  3 entries written before version 0.2.0 carry no hash: nothing to verify\n' +
        '1 rollback: 0 OK, 1 unchained, 0 broken\n',
    );
    expect(code).toBe(0);

    // The engine carries on from such a trail, chaining onto it.
    const engine = new Engine({ store, decider: rollbackDecider, log: silentLogger });
    await engine.dispatch('rb-old', {
      type: 'APPROVE',
      by: USERS.lead,
      roles: ROLES.lead,
      at: T0 + 9 * MINUTE,
    });
    const after = await verify(['verify', 'rb-old']);
    expect(after.stdout).toMatch(
      /^rb-old {2}OK {2}4 entries, chain intact; entries 1–3 unchained \(written before version 0\.2\.0\); head [0-9a-f]{64}\n/,
    );
    expect(after.code).toBe(0);
  });

  it('checks every rollback when no id is given, and fails when one is broken', async () => {
    const { code, stdout } = await verify(['verify']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('6 rollbacks: 2 OK, 0 unchained, 4 broken');
    for (const id of ['rb-intact', 'rb-old'])
      expect(lines).toContainEqual(expect.stringMatching(`^${id} {2}OK`));
    for (const id of ['rb-edited', 'rb-deleted', 'rb-reordered', 'rb-truncated']) {
      expect(lines).toContainEqual(expect.stringMatching(`^${id} {2}BROKEN`));
    }
    expect(code).toBe(1);
  });

  it('refuses a wrong use with the usage', async () => {
    for (const args of [['check'], ['verify', 'rb-1', 'rb-2'], ['verify', '--all'], []]) {
      const { code, stderr } = await verify(args);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^rollback-bot audit: expected `audit verify \[ID\]`\n\nusage: rollback-bot/);
      expect(stderr).toContain('audit verify [ID]              check the audit chain');
    }
  });

  it('says so when the rollback does not exist, or when there is nothing to read', async () => {
    const missing = await verify(['verify', 'rb-nope']);
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'audit verify: there is no rollback rb-nope in this Redis\n',
    });
    const noBot = await runAudit(
      ['verify'],
      {
        argv: [],
        env: { REDIS_URL },
        cwd: root,
        out: () => undefined,
        err: () => undefined,
      },
      { redisPrefix: `${prefix}-empty` },
    );
    expect(noBot).toBe(0);
    expect(await admin.keys(`${prefix}-empty*`)).toEqual([]);
  });
});

describe('bin/rollback-bot.js audit', () => {
  const run = promisify(execFile);
  async function cli(args: string[], env: Record<string, string> = {}) {
    try {
      const { stdout, stderr } = await run(process.execPath, [join(root, 'bin/rollback-bot.js'), ...args], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it('refuses a missing REDIS_URL and an unreachable Redis with exit code 2', async () => {
    // Both at once: each child process starts tsx, which is slow on a busy machine.
    const [unset, down] = await Promise.all([
      cli(['audit', 'verify']),
      cli(['audit', 'verify', 'rb-1'], { REDIS_URL: 'redis://127.0.0.1:1' }),
    ]);
    expect(unset).toMatchObject({
      code: 2,
      stderr: "audit verify reads the bot's Redis: set REDIS_URL as the bot has it\n",
    });

    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(
      /^audit verify: Redis at redis:\/\/127\.0\.0\.1:1 did not answer \(.*ECONNREFUSED.*\)\n$/,
    );
  }, 60_000);
});
