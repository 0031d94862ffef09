/**
 * Carries out `notify` effects in Slack: the notice goes into the rollback's thread (posting the
 * card first if this is the declaration), and the card is made to show at least the version the
 * notice was decided at. Effects come at least once, so a notice already posted is not posted
 * again. When the rollback ends resolved, failed or aborted, the post-mortem draft follows the final
 * notice, once per rollback. What a notice shows comes from the read model at the effect's version:
 * right after a commit made here, that costs no read. Whom a paging notice mentions comes from the
 * policy copied into the rollback, with its user groups read from Slack at the time of paging.
 */
import { COLLECTIONS } from '../store/collections.js';
import { doOnce } from '../store/once.js';
import type { Docs, OutboxEffect } from '../store/store.js';
import type { RollbackReads } from '../app/rollback-reads.js';
import { contextOf } from '../app/rollback-view.js';
import type { AuthorityPolicy } from '../domain/plan.js';
import { postMortemTimeline } from '../domain/post-mortem-timeline.js';
import type { EffectHandler } from '../engine/outbox-worker.js';
import { verifyAuditChain } from '../lib/audit-chain.js';
import { renderPostMortem } from './blocks/post-mortem.js';
import type { RollbackView } from '../app/rollback-view.js';
import { LIMITS, section } from './blocks/kit.js';
import { truncate } from './blocks/text.js';
import { DRILL_MARKER, renderNotice, type Notice, type ThreadMessage } from './blocks/thread-messages.js';
import type { CardPublisher } from './card-publisher.js';
import { pageTier, type GroupMembers, type TierPage } from './paging.js';

/** Endings that need a post-mortem: the rollback ran (a failed or aborted one needs it most). */
const POST_MORTEM_EVENTS: ReadonlySet<unknown> = new Set(['resolved', 'failed', 'aborted']);
/** Notices that page the approvers and notify roles: a plan's text goes before them, never instead. */
const PAGING_EVENTS: ReadonlySet<string> = new Set(['approval-requested', 'escalated', 'reminder']);

export function slackNotifyHandler(deps: {
  /** What was posted once. */
  store: Docs;
  reads: Pick<RollbackReads, 'record' | 'viewOf'>;
  /** Posts in the rollback's thread. */
  cards: Pick<CardPublisher, 'reply'>;
  /** Makes the card show at least this version (the card's one writer decides whether to redraw). */
  showCard: (rollbackId: string, version: number) => Promise<void>;
  /** A user group's members as Slack reports them now (null: could not tell), to page who is there. */
  groupMembers: GroupMembers;
  /** The plan's own text for this notice (its template), if it wrote one; the buttons stay. */
  customText?: (notice: Notice, view: RollbackView) => string | null;
}): EffectHandler {
  return async (effect: OutboxEffect) => {
    const { rollbackId, version } = effect;
    const posted = await doOnce(deps.store, COLLECTIONS.slackNotices, effect.id, async () => {
      const record = await deps.reads.record(rollbackId, version);
      if (!record) return false;
      const view = deps.reads.viewOf(record);
      const notice = effect.payload as unknown as Notice;
      const paging = await pagingOf(notice, contextOf(record.rollback).policy, deps.groupMembers);
      const message = renderNotice(notice, view, paging === undefined ? {} : { paging });
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
    await deps.showCard(rollbackId, version);
  };
}

/**
 * Whom a paging notice reaches: the tier's roles as the rollback's own policy lists them (a map
 * across policies would page another team's group under a shared role name).
 */
function pagingOf(
  notice: Notice,
  policy: AuthorityPolicy,
  groupMembers: GroupMembers,
): Promise<TierPage | undefined> {
  // The notices that carry a tier are the paging ones: approval requested, escalated, reminder.
  return 'tier' in notice ? pageTier(policy, notice.tier, groupMembers) : Promise.resolve(undefined);
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
  deps: {
    store: Docs;
    reads: Pick<RollbackReads, 'record' | 'viewOf'>;
    cards: Pick<CardPublisher, 'reply'>;
  },
  rollbackId: string,
): Promise<void> {
  await doOnce(deps.store, COLLECTIONS.slackPostMortems, rollbackId, async () => {
    // Read from the store, not the copy this process committed: the draft vouches for what is stored.
    const record = await deps.reads.record(rollbackId);
    if (!record) return false;
    const timeline = postMortemTimeline(contextOf(record.rollback), record.audit);
    const audit = verifyAuditChain({ rollbackId, entries: record.audit, record: record.rollback });
    await deps.cards.reply(rollbackId, renderPostMortem(deps.reads.viewOf(record), timeline, audit));
    return true;
  });
}
