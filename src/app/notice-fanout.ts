/**
 * Who hears of a `notify` effect, in order: the rollback's Slack thread, then the stakeholders, then
 * whatever follows (incident threads). Stakeholders are told even when the thread could not be
 * (a deleted card, a refused post): the thread's error is rethrown afterwards so the outbox retries
 * the thread, and the stakeholder targets make their own repeats harmless. Telling the stakeholders
 * is keeping their messages in the store: when that fails, the effect is retried too, or they would
 * never hear. The effects of one rollback run one after another in this process, so the notices of
 * one commit (validation passed, then resolved) reach every target in the order they were decided.
 */
import type { Logger } from 'pino';
import type { EffectHandler } from '../engine/outbox-worker.js';
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
  return (effect, context) =>
    queue.run(effect.rollbackId, async () => {
      let untold: Error | null;
      try {
        await deps.thread(effect, context);
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
