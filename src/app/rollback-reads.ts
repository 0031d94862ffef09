/**
 * The read side of rollbacks: the view people and programs see (card, thread, API, history,
 * stakeholders), built from the stored record and its audit, with every known secret masked. The
 * service and the Slack adapters read through it, so nothing that draws a rollback needs the
 * service that changes it.
 */
import type { SecretMask } from '../domain/secret-mask.js';
import type { Store } from '../store/store.js';
import { rollbackView, type RollbackView } from './rollback-view.js';

export interface RollbackReadsOptions {
  store: Pick<Store, 'getRollback' | 'readAudit' | 'listRollbacks'>;
  now: () => number;
  /** Hides secret values in every view: a second fence behind the masking of stored step results. */
  secrets?: SecretMask | undefined;
}

export type RollbackFilter = { service?: string; state?: string; activeOnly?: boolean; limit?: number };

export class RollbackReads {
  constructor(private readonly options: RollbackReadsOptions) {}

  async view(rollbackId: string): Promise<RollbackView | null> {
    const rollback = await this.options.store.getRollback(rollbackId);
    if (!rollback) return null;
    return this.masked(
      rollbackView(rollback, await this.options.store.readAudit(rollbackId), this.options.now()),
    );
  }

  async list(filter: RollbackFilter = {}): Promise<RollbackView[]> {
    const rollbacks = await this.options.store.listRollbacks(filter);
    const now = this.options.now();
    return Promise.all(
      rollbacks.map(async (r) => this.masked(rollbackView(r, await this.options.store.readAudit(r.id), now))),
    );
  }

  /** What an incident thread says of one of its rollbacks. */
  async brief(
    rollbackId: string,
  ): Promise<{ id: string; state: RollbackView['state']; toVersion: string; declaredBy: string } | null> {
    const view = await this.view(rollbackId);
    if (!view) return null;
    return {
      id: view.id,
      state: view.state,
      toVersion: view.toVersion,
      declaredBy: view.timeline[0]?.by ?? 'system',
    };
  }

  private masked(view: RollbackView): RollbackView {
    return this.options.secrets ? this.options.secrets.value(view) : view;
  }
}
