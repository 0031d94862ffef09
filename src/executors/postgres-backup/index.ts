/**
 * pg_dump before a database rollback, then `pg_restore --list` to prove the dump can be read. The
 * connection goes to pg_dump through PG* environment variables, never argv; a dump that failed,
 * was stopped or could not be verified is removed so no half file passes for a backup.
 */

// Tested by test/integration/executors/postgres-backup.test.ts, test/unit/deploy/dockerfile.test.ts (its programs are in the image).
import { access, constants, mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runProcess, type ProcessResult } from '../command/run-process.js';
import type { Executor, StepResult } from '../executor.js';
import { human } from '../http-kit.js';
import { excerpt } from '../../lib/text.js';
import { parseConnection } from './connection.js';
import { postgresBackupParams, type PostgresBackupParams } from './params.js';

/** The client programs this executor runs (the image installs them with postgresql-client). */
const PG_DUMP = 'pg_dump';
const PG_RESTORE = 'pg_restore';

/** Keeps a name safe as a part of a file name. */
const safe = (text: string): string => text.replace(/[^A-Za-z0-9_.-]/g, '_');

/** 2026-11-23T07:33:14.123Z → 20261123T073314Z */
const stamp = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export const postgresBackupExecutor: Executor<PostgresBackupParams> = {
  kind: 'postgres-backup',
  description: 'Dumps a PostgreSQL database with pg_dump before a database rollback, then verifies the dump.',
  params: postgresBackupParams,
  programs: [PG_DUMP, PG_RESTORE],
  async run(ctx, params) {
    const connection = parseConnection(params.database);
    if (!connection.ok) return { outcome: 'failed', error: connection.error };
    const { database, env } = connection;
    const dir = resolve(params.outputDir);
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      return { outcome: 'failed', error: `cannot write the dump to ${dir} (${code})` };
    }
    const file = join(dir, `${safe(database)}-${safe(ctx.rollback.id)}-${stamp(new Date())}.dump`);
    const limitMs = Math.min(params.timeout, ctx.timeoutMs);
    const deadline = performance.now() + limitMs;
    const remaining = () => Math.max(1, deadline - performance.now());
    const failed = async (error: string): Promise<StepResult> => {
      await rm(file, { force: true });
      return { outcome: 'failed', error: `${error}; the partial dump was removed` };
    };
    const ended = (program: string, result: ProcessResult): string | undefined => {
      switch (result.ended) {
        case 'spawn_error':
          return `could not start ${program}: ${result.spawnError ?? 'unknown error'}`;
        case 'timeout':
          return `${program} of ${database} did not finish within the step's time limit of ${human(limitMs)} and was stopped`;
        case 'aborted':
          return `${program} of ${database} was stopped (rollback cancelled or bot shutting down)`;
        case 'exited':
          return result.exitCode === 0
            ? undefined
            : `${program} of ${database} failed (${result.exitCode === null ? `signal ${result.signal ?? '?'}` : `exit code ${result.exitCode}`}): ${excerpt(result.output) || 'no output'}`;
      }
    };

    ctx.log.line(`pg_dump of ${database} to ${file}`);
    const dump = await runProcess({
      argv: [PG_DUMP, `--format=${params.format}`, '--no-password', `--file=${file}`],
      env,
      timeoutMs: remaining(),
      signal: ctx.signal,
      onLine: (line) => {
        ctx.log.line(line);
      },
    });
    const dumpProblem = ended(PG_DUMP, dump);
    if (dumpProblem !== undefined) return failed(dumpProblem);

    const { size: bytes } = await stat(file);
    let tocEntries: number | undefined;
    const verify = await runProcess({
      argv: [PG_RESTORE, '--list', file],
      timeoutMs: remaining(),
      signal: ctx.signal,
      maxOutputChars: 4_000,
      onLine: (line) => {
        const header = /^;\s+TOC Entries:\s*(\d+)/.exec(line);
        if (header) tocEntries = Number(header[1]);
      },
    });
    const verifyProblem = ended(`${PG_RESTORE} --list`, verify);
    if (verifyProblem !== undefined) return failed(`the dump could not be verified: ${verifyProblem}`);
    if (tocEntries === undefined || tocEntries === 0) {
      return failed('the dump could not be verified: pg_restore --list showed no table of contents');
    }
    ctx.log.line(`verified with pg_restore --list: ${tocEntries} TOC entries, ${formatBytes(bytes)}`);
    return {
      outcome: 'succeeded',
      output: { file, bytes, tocEntries },
      summary: `${database} dumped to ${file} (${formatBytes(bytes)}, ${tocEntries} TOC entries), verified`,
    };
  },
};
