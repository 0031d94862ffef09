import type { Commit } from './store.js';

/**
 * Programmer errors in a commit, refused by both stores before anything is written (in Redis, a Lua
 * script that fails halfway is not undone, so nothing malformed may reach it).
 */
export function checkCommit(commit: Commit): void {
  const { rollback, expectedVersion } = commit;
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new Error(`expectedVersion must be a non-negative integer, got ${expectedVersion}`);
  }
  if (rollback.version !== expectedVersion + 1) {
    throw new Error(`rollback ${rollback.id}: version ${rollback.version} is not expectedVersion + 1`);
  }
  for (const time of [rollback.createdAt, rollback.updatedAt, ...commit.timers.map((timer) => timer.dueAt)]) {
    if (!Number.isFinite(time)) throw new Error(`rollback ${rollback.id}: time ${time} is not a number`);
  }
  for (const { rollbackId } of [...commit.timers, ...commit.effects]) {
    if (rollbackId !== rollback.id) {
      throw new Error(
        `rollback ${rollback.id}: a commit sets only its own effects and timers, got ${rollbackId}`,
      );
    }
  }
}
