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
 * every earlier one owed, not only for the first. Only in this process: if another replica retries
 * a notice, this one's record of it lapses after `HOLD_MS` without news of it.
 */
import type { Logger } from 'pino';
import type { EffectHandler } from '../engine/outbox-worker.js';
import { RollbackError } from '../lib/errors.js';
import { KeyedQueue } from '../lib/keyed-queue.js';
import type { OutboxEffect, StoredRollback } from '../store/store.js';

export function noticeFanout(deps: {
  thread: EffectHandler;
  stakeholders: (effect: OutboxEffect) => Promise<void>;
  /** The rollback as of the effect's version, for `after`. */
  rollbackOf: (effect: OutboxEffect) => Promise<{ rollback: StoredRollback } | null>;
  /** Runs once the thread was told. */
  after: (rollback: StoredRollback) => Promise<void>;
  log: Logger;
}): EffectHandler {
  const queue = new KeyedQueue();
  /** Per rollback, its notices not yet in the thread after a retryable failure or a hold. */
  const owed = new Map<string, Map<string, { order: Order; since: number }>>();
  const thread: EffectHandler = async (effect, context) => {
    const order = orderOf(effect);
    const now = Date.now();
    const notices = owed.get(effect.rollbackId) ?? new Map<string, { order: Order; since: number }>();
    for (const [id, notice] of notices) if (now - notice.since >= HOLD_MS) notices.delete(id);
    const waitsFor = [...notices.values()].some((notice) => before(notice.order, order));
    try {
      if (waitsFor) throw new NoticeHeldError(effect.rollbackId);
      await deps.thread(effect, context);
    } catch (error) {
      if (error instanceof RollbackError && error.retryable) {
        notices.set(effect.id, { order, since: now });
        owed.set(effect.rollbackId, notices);
      }
      throw error;
    }
    notices.delete(effect.id);
    if (notices.size === 0) owed.delete(effect.rollbackId);
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

/** How long later notices wait behind a failed one this process hears nothing more of. */
const HOLD_MS = 60_000;

/** Where a notice stands among its rollback's: its version, then its index in that commit. */
type Order = readonly [number, number];

/** Effect ids are `<rollbackId>:<version>:<index>`. */
function orderOf(effect: OutboxEffect): Order {
  return [effect.version, Number(effect.id.slice(effect.id.lastIndexOf(':') + 1)) || 0];
}

const before = (a: Order, b: Order): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

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
