import type {
  AuditEntry,
  Commit,
  OutboxEffect,
  Store,
  StoredRollback,
  TimerRecord,
} from '../../../src/store/store.js';

export type GetStore = () => Store;

let counter = 0;
/** Ids differ between tests and runs, and spread over the Redis shards. */
export function newId(tag = 'rb'): string {
  counter += 1;
  return `${tag}-${Date.now().toString(36)}-${counter.toString(36)}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function rollbackAt(
  id: string,
  version: number,
  overrides: Partial<StoredRollback> = {},
): StoredRollback {
  return {
    id,
    service: 'user-service',
    environment: 'production',
    version,
    state: version === 1 ? 'declared' : 'executing',
    final: false,
    snapshot: {
      value: { executing: 'step' },
      context: { step: version, notes: ['é', '✓'], nested: [{ a: null }] },
    },
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000 + version,
    ...overrides,
  };
}

export function auditFor(rollback: StoredRollback, event = 'EVENT', by = 'U123'): AuditEntry {
  return { version: rollback.version, at: rollback.updatedAt, event, by, state: rollback.state };
}

export function effectFor(
  rollbackId: string,
  version: number,
  index: number,
  kind = 'post-message',
): OutboxEffect {
  return {
    id: `${rollbackId}:${version}:${index}`,
    rollbackId,
    version,
    kind,
    payload: { index, text: `effect ${index}` },
    createdAt: 1_700_000_000_000 + index,
  };
}

export function timerFor(rollbackId: string, timer: string, seq: number, dueAt: number): TimerRecord {
  return { rollbackId, timer, seq, dueAt };
}

/** The commit that brings `rollback` to its version, with one audit entry unless told otherwise. */
export function commitOf(
  rollback: StoredRollback,
  extras: Partial<Pick<Commit, 'audit' | 'effects' | 'timers'>> = {},
): Commit {
  return {
    rollback,
    expectedVersion: rollback.version - 1,
    audit: extras.audit ?? [auditFor(rollback, rollback.version === 1 ? 'DECLARE' : 'EVENT')],
    effects: extras.effects ?? [],
    timers: extras.timers ?? [],
  };
}

/** Creates a rollback and moves it to `version` through plain commits. */
export async function createAt(
  store: Store,
  id: string,
  version: number,
  overrides: Partial<StoredRollback> = {},
): Promise<StoredRollback> {
  let rollback = rollbackAt(id, 1, overrides);
  for (let v = 1; v <= version; v += 1) {
    rollback = rollbackAt(id, v, overrides);
    const result = await store.commit(commitOf(rollback));
    if (!result.ok) throw new Error(`setup commit of ${id} v${v} failed`);
  }
  return rollback;
}
