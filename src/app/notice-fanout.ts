/**
 * Who hears of a `notify` effect, in order: the rollback's Slack thread, then the stakeholders, then
 * whatever follows (incident threads). Stakeholders are told even when the thread could not be
 * (a deleted card, a refused post): the thread's error is rethrown afterwards so the outbox retries
 * the thread, and the stakeholder targets make their own repeats harmless. Telling the stakeholders
 * is keeping their messages in the store: when that fails, the effect is retried too, or they would
 * never hear. The effects of one rollback run one after another in this process, so the notices of
 * one commit (validation passed, then resolved) reach every target in the order they were decided.
 *
 * When Slack is away (limiting the bot, failing), a notice whose thread post failed is retried by the
 * outbox a reclaim later; the rollback's later notices must not overtake it, so they are held back
 * (failed at once, retried after it). A held notice is owed too: once the first got through, the
 * outbox redelivers the others in whatever order their retries fall due, so each still waits for
 * every earlier one owed, not only for the first. What is owed is kept in the store (`OwedNotices`),
 * because the replica that retries a notice need not be the one that saw it fail; an entry no
 * replica tried for `HOLD_MS` lapses (its effect was given up).
 */
import type { Logger } from 'pino';
import type { EffectHandler } from '../engine/outbox-worker.js';
import { RollbackError } from '../lib/errors.js';
import { KeyedQueue } from '../lib/keyed-queue.js';
import type { OutboxEffect, StoredRollback } from '../store/store.js';
import { noticeBefore, type NoticeOrder, type OwedNotices } from './owed-notices.js';

export function noticeFanout(deps: {
  thread: EffectHandler;
  stakeholders: (effect: OutboxEffect) => Promise<void>;
  /** The rollback as of the effect's version, for `after`. */
  rollbackOf: (effect: OutboxEffect) => Promise<{ rollback: StoredRollback } | null>;
  /** Runs once the thread was told. */
  after: (rollback: StoredRollback) => Promise<void>;
  /** The rollback's notices owed to its thread, shared by every replica. */
  owed: Pick<OwedNotices, 'of' | 'add' | 'settle'>;
  log: Logger;
}): EffectHandler {
  const queue = new KeyedQueue();
  const thread: EffectHandler = async (effect, context) => {
    const order = orderOf(effect);
    const owed = await deps.owed.of(effect.rollbackId, Date.now());
    try {
      if ([...owed.values()].some((earlier) => noticeBefore(earlier, order))) {
        throw new NoticeHeldError(effect.rollbackId);
      }
      await deps.thread(effect, context);
    } catch (error) {
      if (error instanceof RollbackError && error.retryable) {
        await deps.owed.add(effect.rollbackId, effect.id, order, Date.now());
      }
      throw error;
    }
    if (owed.has(effect.id)) await deps.owed.settle(effect.rollbackId, effect.id);
  };
  return (effect, context) =>
    queue.run(effect.rollbackId, async () => {
      let untold: Error | null;
      try {
        await thread(effect, context);
      } finally {
        untold = await deps.stakeholders(effect).then(
          () => null,
          (error: unknown) => {
            deps.log.warn({ err: error, rollbackId: effect.rollbackId }, 'stakeholders could not be told');
            return error instanceof Error ? error : new Error(String(error));
          },
        );
      }
      const record = await deps.rollbackOf(effect);
      if (record) await deps.after(record.rollback);
      if (untold) throw untold;
    });
}

/** How long later notices wait behind an owed one that no replica tries any more. */
export const HOLD_MS = 60_000;

/** Effect ids are `<rollbackId>:<version>:<index>`. */
function orderOf(effect: OutboxEffect): NoticeOrder {
  return [effect.version, Number(effect.id.slice(effect.id.lastIndexOf(':') + 1)) || 0];
}

/** A notice waits for an earlier one of its rollback to reach the thread first: retried later. */
export class NoticeHeldError extends RollbackError {
  constructor(rollbackId: string) {
    super({
      code: 'notice_held',
      userMessage: `an earlier notice of ${rollbackId} waits for Slack; this one follows it`,
      retryable: true,
    });
  }
}
