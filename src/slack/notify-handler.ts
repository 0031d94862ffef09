/**
 * Carries out `notify` effects in Slack: the notice goes into the rollback's thread (posting the
 * card first if this is the declaration), then the card is redrawn. Effects come at least once, so
 * a notice already posted is not posted again.
 */
import type { OutboxEffect, Store } from '../store/store.js';
import type { RollbackService } from '../app/rollback-service.js';
import type { EffectHandler } from '../engine/outbox-worker.js';
import { renderNotice, type Notice } from './blocks/thread-messages.js';
import type { CardPublisher } from './card-publisher.js';

const POSTED = 'slack-notices';

export function slackNotifyHandler(deps: {
  store: Store;
  service: Pick<RollbackService, 'view'>;
  cards: CardPublisher;
  /** Role name -> Slack user group id, so escalations page the group. */
  roleGroups: () => Record<string, string>;
}): EffectHandler {
  return async (effect: OutboxEffect) => {
    const rollbackId = effect.rollbackId;
    if (!(await deps.store.getDoc(POSTED, effect.id))) {
      const view = await deps.service.view(rollbackId);
      if (!view) return;
      await deps.cards.reply(
        rollbackId,
        renderNotice(effect.payload as unknown as Notice, view, { roleGroups: deps.roleGroups() }),
      );
      await deps.store.putDoc(POSTED, effect.id, { at: effect.createdAt }, 0);
    }
    await deps.cards.refresh(rollbackId);
  };
}
