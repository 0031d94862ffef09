/**
 * The machine's `freeze` effect (on when execution begins, off on entry of every final state).
 *
 * The freeze itself needs no work here: `FreezeService.status` reads the active rollback when CI
 * asks, so the answer cannot drift from the rollback's state, and the card and thread already say
 * that the rollback is running or over (a notice per freeze would repeat them). What the `off`
 * effect is used for: it marks, at least once, the moment a rollback ends, which is when a resolved
 * drill becomes its plan's "last tested".
 */
import type { Logger } from 'pino';
import type { EffectHandler } from '../engine/outbox-worker.js';
import type { OutboxEffect, Store } from '../store/store.js';
import type { DrillRecords } from './drill-records.js';
import { contextOf } from './rollback-view.js';

export function freezeEffectHandler(deps: {
  store: Pick<Store, 'getRollback'>;
  drills: Pick<DrillRecords, 'record'>;
  log: Logger;
}): EffectHandler {
  return async (effect: OutboxEffect) => {
    if (effect.payload['on'] !== false) return;
    const rollback = await deps.store.getRollback(effect.rollbackId);
    if (!rollback || rollback.state !== 'resolved') return;
    const context = contextOf(rollback);
    if (!context.drill) return;
    await deps.drills.record({
      service: context.service,
      strategy: context.strategy.name,
      rollbackId: rollback.id,
      at: context.outcome?.at ?? rollback.updatedAt,
      by: context.declaredBy,
    });
    deps.log.info(
      { rollbackId: rollback.id, service: context.service, strategy: context.strategy.name },
      'drill resolved: recorded as the strategy’s last test',
    );
  };
}
