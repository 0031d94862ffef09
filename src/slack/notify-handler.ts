/**
 * Carries out `notify` effects in Slack: the notice goes into the rollback's thread (posting the
 * card first if this is the declaration), then the card is redrawn. Effects come at least once, so
 * a notice already posted is not posted again. When the rollback ends resolved, failed or aborted,
 * the post-mortem draft follows the final notice, once per rollback.
 */
import { COLLECTIONS } from '../store/collections.js';
import { doOnce } from '../store/once.js';
import type { Docs, OutboxEffect, RollbackReader } from '../store/store.js';
import type { Catalog, RollbackService } from '../app/rollback-service.js';
import { readTimeline } from '../app/rollback-records.js';
import type { EffectHandler } from '../engine/outbox-worker.js';
import { renderPostMortem } from './blocks/post-mortem.js';
import type { RollbackView } from '../app/rollback-view.js';
import { LIMITS, section } from './blocks/kit.js';
import { truncate } from './blocks/text.js';
import { DRILL_MARKER, renderNotice, type Notice, type ThreadMessage } from './blocks/thread-messages.js';
import type { CardPublisher } from './card-publisher.js';

/** Endings that need a post-mortem: the rollback ran (a failed or aborted one needs it most). */
const POST_MORTEM_EVENTS: ReadonlySet<unknown> = new Set(['resolved', 'failed', 'aborted']);
/** Notices that page the approvers and notify roles: a plan's text goes before them, never instead. */
const PAGING_EVENTS: ReadonlySet<string> = new Set(['approval-requested', 'escalated', 'reminder']);

export function slackNotifyHandler(deps: {
  /** Docs: what was posted once; the reader: the post-mortem's timeline. */
  store: Docs & RollbackReader;
  service: Pick<RollbackService, 'view'>;
  cards: CardPublisher;
  /** Role name -> Slack user group id, so escalations page the group. */
  roleGroups: () => Record<string, string>;
  /** The plan's own text for this notice (its template), if it wrote one; the buttons stay. */
  customText?: (notice: Notice, view: RollbackView) => string | null;
}): EffectHandler {
  return async (effect: OutboxEffect) => {
    const rollbackId = effect.rollbackId;
    const posted = await doOnce(deps.store, COLLECTIONS.slackNotices, effect.id, async () => {
      const view = await deps.service.view(rollbackId);
      if (!view) return false;
      const notice = effect.payload as unknown as Notice;
      const message = renderNotice(notice, view, { roleGroups: deps.roleGroups() });
      const custom = deps.customText?.(notice, view) ?? null;
      await deps.cards.reply(
        rollbackId,
        custom === null
          ? message
          : withText(
              message,
              view.drill ? `${DRILL_MARKER} ${custom}` : custom,
              PAGING_EVENTS.has(notice.event),
            ),
      );
      return true;
    });
    if (posted === 'skipped') return;
    // Another replica is posting it: the outbox retries this delivery, so the notice is not lost
    // if that replica dies before it is done.
    if (posted === 'busy') throw new Error(`notice ${effect.id} is being posted elsewhere; retrying`);
    if (POST_MORTEM_EVENTS.has(effect.payload['event'])) await postMortemOnce(deps, rollbackId);
    await deps.cards.refresh(rollbackId);
  };
}

/**
 * The notice with the plan's text in place of the default one, its buttons kept. A paging notice
 * keeps the whole default after the plan's text: its user-group mentions are the page.
 */
function withText(message: ThreadMessage, text: string, keepDefault: boolean): ThreadMessage {
  if (!keepDefault) {
    const buttons = (message.blocks ?? []).filter((block) => block.type === 'actions');
    return { text: truncate(text, LIMITS.fallbackText), blocks: [section(text), ...buttons] };
  }
  // The plan's text gives way in the fallback so the default's mentions are never cut off.
  const room = Math.max(LIMITS.fallbackText - message.text.length - 1, 1);
  return {
    text: truncate(`${truncate(text, room)}\n${message.text}`, LIMITS.fallbackText),
    blocks: [section(text), ...(message.blocks ?? [])],
  };
}

async function postMortemOnce(
  deps: { store: Docs & RollbackReader; service: Pick<RollbackService, 'view'>; cards: CardPublisher },
  rollbackId: string,
): Promise<void> {
  await doOnce(deps.store, COLLECTIONS.slackPostMortems, rollbackId, async () => {
    const [view, timeline] = await Promise.all([
      deps.service.view(rollbackId),
      readTimeline(deps.store, rollbackId),
    ]);
    if (!view || !timeline) return false;
    await deps.cards.reply(rollbackId, renderPostMortem(view, timeline));
    return true;
  });
}

/** Role -> user group, from the authority policies, so escalation notices page the group. */
export function roleGroupsOf(catalog: Catalog): Record<string, string> {
  const groups: Record<string, string> = {};
  for (const policy of catalog.policies.values()) {
    for (const role of policy.roles) {
      if (role.members.usergroup !== undefined) groups[role.name] ??= role.members.usergroup;
    }
  }
  return groups;
}
