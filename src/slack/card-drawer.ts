/**
 * Draws a rollback's status card from what is stored now: the view (through the read model, masked),
 * the buttons the machine's current state accepts, the plan's limitations and channel. The card
 * publisher calls it for every post and redraw, so the card has one source.
 */
import type { Catalog } from '../app/rollback-service.js';
import type { RollbackReads } from '../app/rollback-reads.js';
import { contextOf } from '../app/rollback-view.js';
import { approvalsRequired } from '../domain/authority.js';
import { eventsAccepted, restore, type PersistedRollback } from '../domain/rollback-machine.js';
import type { Store } from '../store/store.js';
import { renderStatusCard } from './blocks/status-card.js';
import type { SlackMessage } from './card-publisher.js';

export function cardDrawer(deps: {
  store: Pick<Store, 'getRollback'>;
  reads: Pick<RollbackReads, 'view'>;
  catalog: () => Catalog;
  now: () => number;
}): (rollbackId: string) => Promise<{ channel: string; message: SlackMessage } | null> {
  return async (rollbackId) => {
    const rollback = await deps.store.getRollback(rollbackId);
    const view = await deps.reads.view(rollbackId);
    if (!rollback || !view) return null;
    const context = contextOf(rollback);
    const plan = deps.catalog().plans.get(context.service);
    const message = renderStatusCard({
      view,
      limitations: plan?.limitations ?? [],
      acceptedEvents: eventsAccepted(restore(rollback.snapshot as PersistedRollback)),
      now: deps.now(),
      approvalsRequired: approvalsRequired(context.policy, context.environment),
    });
    return { channel: plan?.channel ?? context.declaredBy, message };
  };
}
