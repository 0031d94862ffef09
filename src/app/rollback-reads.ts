/**
 * The read side of rollbacks: the view people and programs see (card, thread, API, history,
 * stakeholders), built from the stored record and its audit, with every known secret masked. The
 * services change rollbacks; everything that shows one reads it here.
 *
 * Every commit made in this process is handed in (`committed`), so what a notice or the card shows
 * right after a transition costs no read: the newest record and its audit are kept per rollback.
 * A reader that must show at least a given version (an effect decided at version 7) names it, and
 * an older copy (another replica committed since) is read again. Reads without a version (the API,
 * `/rollback status`) always go to the store.
 */
import type { SecretMask } from '../domain/secret-mask.js';
import type { Committed } from '../engine/engine.js';
import type { AuditEntry, RollbackReader, StoredRollback } from '../store/store.js';
import { contextOf, rollbackView, type RollbackView } from './rollback-view.js';

export interface RollbackReadsOptions {
  store: RollbackReader;
  now: () => number;
  /** Hides secret values in every view: a second fence behind the masking of stored step results. */
  secrets?: SecretMask | undefined;
  /** Rollbacks whose newest record is kept (the least recently committed are dropped first). */
  keep?: number;
}

export type RollbackFilter = { service?: string; state?: string; activeOnly?: boolean; limit?: number };

/** A stored rollback with its whole audit, as of the same version. */
export interface RollbackRecord {
  rollback: StoredRollback;
  audit: readonly AuditEntry[];
}

export class RollbackReads {
  private readonly newest = new Map<string, RollbackRecord>();

  constructor(private readonly options: RollbackReadsOptions) {}

  /** The engine's commit listener: keeps the newest record of each rollback committed here. */
  readonly committed = ({ rollback, audit }: Committed): void => {
    const known = this.newest.get(rollback.id);
    const before = rollback.version - audit.length;
    // The audit is append-only with one entry per version: a gap means another replica committed.
    if (before === 0) this.keep({ rollback, audit });
    else if (known?.rollback.version === before) this.keep({ rollback, audit: [...known.audit, ...audit] });
    else this.newest.delete(rollback.id);
  };

  /**
   * The record at `atLeast` or newer: the kept copy when it is new enough, else read (and kept).
   * Without `atLeast`, always read.
   */
  async record(rollbackId: string, atLeast?: number): Promise<RollbackRecord | null> {
    const known = this.newest.get(rollbackId);
    if (known && atLeast !== undefined && known.rollback.version >= atLeast) return known;
    const { store } = this.options;
    const [rollback, audit] = await Promise.all([store.getRollback(rollbackId), store.readAudit(rollbackId)]);
    if (!rollback) return null;
    // Read apart, the two may straddle a commit: keep only what agrees.
    const agreed = audit.filter((entry) => entry.version <= rollback.version);
    if (agreed.at(-1)?.version === rollback.version) this.keep({ rollback, audit: agreed });
    return { rollback, audit: agreed };
  }

  async view(rollbackId: string, atLeast?: number): Promise<RollbackView | null> {
    const record = await this.record(rollbackId, atLeast);
    return record && this.viewOf(record);
  }

  /** The view of a record already at hand. */
  viewOf(record: RollbackRecord): RollbackView {
    return this.masked(rollbackView(record.rollback, record.audit, this.options.now()));
  }

  async list(filter: RollbackFilter = {}): Promise<RollbackView[]> {
    const rollbacks = await this.options.store.listRollbacks(filter);
    const now = this.options.now();
    return Promise.all(
      rollbacks.map(async (r) => this.masked(rollbackView(r, await this.options.store.readAudit(r.id), now))),
    );
  }

  /** What an incident thread says of one of its rollbacks, and the incident it was declared in. */
  async brief(rollbackId: string): Promise<{
    id: string;
    state: RollbackView['state'];
    toVersion: string;
    declaredBy: string;
    incidentId: string | null;
  } | null> {
    const record = await this.record(rollbackId);
    if (!record) return null;
    const view = this.viewOf(record);
    return {
      id: view.id,
      state: view.state,
      toVersion: view.toVersion,
      declaredBy: view.timeline[0]?.by ?? 'system',
      incidentId: contextOf(record.rollback).incidentId ?? null,
    };
  }

  private keep(record: RollbackRecord): void {
    this.newest.delete(record.rollback.id);
    this.newest.set(record.rollback.id, record);
    const keep = this.options.keep ?? 1_000;
    for (const id of this.newest.keys()) {
      if (this.newest.size <= keep) break;
      this.newest.delete(id);
    }
  }

  private masked(view: RollbackView): RollbackView {
    return this.options.secrets ? this.options.secrets.value(view) : view;
  }
}
