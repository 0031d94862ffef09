/**
 * Carries out `notify` effects in Slack: the notice goes into the rollback's thread (posting the
 * card first if this is the declaration), then the card is redrawn. Effects come at least once, so
 * a notice already posted is not posted again. When the rollback ends resolved, failed or aborted,
 * the post-mortem draft follows the final notice, once per rollback.
 */
import type { OutboxEffect, Store } from '../store/store.js';
import type { RollbackService } from '../app/rollback-service.js';
import { readTimeline } from '../app/rollback-records.js';
import type { EffectHandler } from '../engine/outbox-worker.js';
import { renderPostMortem } from './blocks/post-mortem.js';
import { renderNotice, type Notice } from './blocks/thread-messages.js';
import type { CardPublisher } from './card-publisher.js';

const POSTED = 'slack-notices';
const POST_MORTEMS = 'slack-post-mortems';
/** Endings that need a post-mortem: the rollback ran (a failed or aborted one needs it most). */
const POST_MORTEM_EVENTS: ReadonlySet<unknown> = new Set(['resolved', 'failed', 'aborted']);

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
    if (POST_MORTEM_EVENTS.has(effect.payload['event'])) await postMortemOnce(deps, rollbackId);
    await deps.cards.refresh(rollbackId);
  };
}

async function postMortemOnce(
  deps: { store: Store; service: Pick<RollbackService, 'view'>; cards: CardPublisher },
  rollbackId: string,
): Promise<void> {
  if (await deps.store.getDoc(POST_MORTEMS, rollbackId)) return;
  const [view, timeline] = await Promise.all([
    deps.service.view(rollbackId),
    readTimeline(deps.store, rollbackId),
  ]);
  if (!view || !timeline) return;
  await deps.cards.reply(rollbackId, renderPostMortem(view, timeline));
  await deps.store.putDoc(
    POST_MORTEMS,
    rollbackId,
    { at: Date.parse(view.outcome?.at ?? view.declaredAt) },
    0,
  );
}
