import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConnection } from '../../../src/executors/postgres-backup/connection.js';
import { postgresBackupExecutor } from '../../../src/executors/postgres-backup/index.js';
import { stepContext } from '../../support/http-peer.js';

/** The real PostgreSQL of this machine: 127.0.0.1:5432, trust authentication. */
const run = promisify(execFile);
const psql = (database: string, sql: string) =>
  run('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', database, '-XAtqc', sql]);

const DB = `rbtest_${process.pid}_${Date.now()}`;
/** The password is ignored by trust authentication; it must never show in argv or in the thread. */
const SECRET = 's3cret-pw';
const url = (database = DB) => `postgres://postgres:${SECRET}@127.0.0.1:5432/${database}`;

let dir: string;
let holder: ChildProcess | undefined;

beforeAll(async () => {
  await psql('postgres', `CREATE DATABASE ${DB}`);
  await psql(DB, 'CREATE TABLE orders (id int PRIMARY KEY, note text)');
  await psql(DB, "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 500) g");
});
afterAll(async () => {
  await psql('postgres', `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-pg-'));
});
afterEach(async () => {
  if (holder?.pid !== undefined && holder.exitCode === null) holder.kill('SIGTERM');
  holder = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The real executor gets the rendered value; the schema checks the reference, then we render it. */
async function backupOf(connection: string, params: Record<string, unknown> = {}, signal?: AbortSignal) {
  const parsed = postgresBackupExecutor.params.parse({
    database: '${env:DB_URL}',
    outputDir: dir,
    ...params,
  });
  const { ctx, lines, warnings } = stepContext(signal);
  const result = await postgresBackupExecutor.run(ctx, { ...parsed, database: connection });
  return { result, lines: [...lines, ...warnings] };
}

/** Holds an ACCESS EXCLUSIVE lock on the table so pg_dump waits in the middle of its work. */
async function lockTable(): Promise<void> {
  holder = spawn(
    'psql',
    ['-h', '127.0.0.1', '-U', 'postgres', '-d', DB, '-Xqc', 'BEGIN; LOCK TABLE orders; SELECT pg_sleep(60);'],
    { stdio: 'ignore' },
  );
  await waitFor(`SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = 'orders' AND l.mode = 'AccessExclusiveLock' AND l.granted`);
}

/** Resolves when `countSql` counts something. */
async function waitFor(countSql: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { stdout } = await psql(DB, countSql);
    if (Number(stdout.trim()) > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for: ${countSql}`);
}

const pgDumpWaiting = () =>
  waitFor(`SELECT count(*) FROM pg_stat_activity
    WHERE application_name = 'pg_dump' AND datname = '${DB}' AND wait_event_type = 'Lock'`);

describe('postgres-backup executor (real PostgreSQL)', () => {
  it('dumps the database in custom format and verifies it with pg_restore --list', async () => {
    const { result, lines } = await backupOf(url());
    expect(result.outcome).toBe('succeeded');
    if (result.outcome !== 'succeeded') return;
    const { file, bytes, tocEntries } = result.output as { file: string; bytes: number; tocEntries: number };
    expect(file).toMatch(new RegExp(`^${dir}/${DB}-rb-1-\\d{8}T\\d{6}Z\\.dump$`));
    expect((await stat(file)).size).toBe(bytes);
    expect(bytes).toBeGreaterThan(0);
    expect(tocEntries).toBeGreaterThan(0);
    const { stdout } = await run('pg_restore', ['--list', file]);
    expect(stdout).toContain('TABLE DATA public orders');
    expect(result.summary).toMatch(
      new RegExp(`^${DB} dumped to .+ \\(.+, ${tocEntries} TOC entries\\), verified$`),
    );
    expect(lines[0]).toBe(`pg_dump of ${DB} to ${file}`);
    expect(lines.at(-1)).toMatch(/^verified with pg_restore --list: \d+ TOC entries/);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('accepts a key=value connection string and creates the output folder', async () => {
    const nested = join(dir, 'backups', 'checkout');
    const { result } = await backupOf(
      `host=127.0.0.1 port=5432 user=postgres password='${SECRET}' dbname=${DB}`,
      {
        outputDir: nested,
      },
    );
    expect(result.outcome).toBe('succeeded');
    expect(result.outcome === 'succeeded' && result.output['file']).toMatch(new RegExp(`^${nested}/${DB}-`));
  });

  it('fails plainly for an unknown database and leaves no file', async () => {
    const { result } = await backupOf(url(`${DB}_missing`));
    expect(result.outcome).toBe('failed');
    const error = result.outcome === 'failed' ? result.error : '';
    expect(error).toMatch(
      new RegExp(
        `^pg_dump of ${DB}_missing failed \\(exit code 1\\): .*database "${DB}_missing" does not exist`,
      ),
    );
    expect(error).not.toContain(SECRET);
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails when the output folder cannot be written', async () => {
    const notAFolder = join(dir, 'file');
    await writeFile(notAFolder, 'x');
    const { result } = await backupOf(url(), { outputDir: join(notAFolder, 'backups') });
    expect(result).toEqual({
      outcome: 'failed',
      error: `cannot write the dump to ${join(notAFolder, 'backups')} (ENOTDIR)`,
    });
  });

  it('removes the partial dump when aborted mid-dump, and keeps the password out of argv', async () => {
    await lockTable();
    const controller = new AbortController();
    const running = backupOf(url(), {}, controller.signal);
    await pgDumpWaiting();
    const { stdout: processes } = await run('ps', ['-eo', 'args']);
    const dumpArgv = processes.split('\n').find((line) => line.includes(`--file=${dir}/`));
    expect(dumpArgv).toMatch(new RegExp(`pg_dump --format=custom --no-password --file=${dir}/${DB}-rb-1-`));
    expect(dumpArgv).not.toContain(SECRET);
    expect(await readdir(dir)).toHaveLength(1);
    controller.abort();
    const { result } = await running;
    expect(result).toEqual({
      outcome: 'failed',
      error: `pg_dump of ${DB} was stopped (rollback cancelled or bot shutting down); the partial dump was removed`,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('stops at the step time limit and removes the partial dump', async () => {
    await lockTable();
    const { result } = await backupOf(url(), { timeout: '1s' });
    expect(result).toEqual({
      outcome: 'failed',
      error: `pg_dump of ${DB} did not finish within the step's time limit of 1s and was stopped; the partial dump was removed`,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails before starting when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { result } = await backupOf(url(), {}, controller.signal);
    expect(result).toEqual({
      outcome: 'failed',
      error: `pg_dump of ${DB} was stopped (rollback cancelled or bot shutting down); the partial dump was removed`,
    });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('parseConnection', () => {
  it('turns a URL into PG* variables', () => {
    expect(parseConnection('postgresql://app:p%40ss@db.internal:6432/shop?sslmode=require')).toEqual({
      ok: true,
      database: 'shop',
      env: {
        PGHOST: 'db.internal',
        PGPORT: '6432',
        PGUSER: 'app',
        PGPASSWORD: 'p@ss',
        PGDATABASE: 'shop',
        PGSSLMODE: 'require',
      },
    });
  });

  it('reads quoted key=value pairs', () => {
    expect(parseConnection("host=db dbname=shop password='a b\\'c'")).toEqual({
      ok: true,
      database: 'shop',
      env: { PGHOST: 'db', PGDATABASE: 'shop', PGPASSWORD: "a b'c" },
    });
  });

  it('refuses what it cannot pass safely, without quoting the secret', () => {
    expect(parseConnection('postgres://u:pw@db')).toEqual({
      ok: false,
      error: 'the connection string names no database',
    });
    expect(parseConnection('host=db dbname=x sslpassword=pw')).toEqual({
      ok: false,
      error: 'unsupported connection parameter "sslpassword"',
    });
  });
});
