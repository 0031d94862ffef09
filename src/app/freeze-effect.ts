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
import type { RollbackContext } from '../domain/rollback-types.js';
import { restoredVersion } from '../domain/step-target.js';
import { COLLECTIONS } from '../store/collections.js';
import { doOnce } from '../store/once.js';
import type { Deployments, Docs, OutboxEffect } from '../store/store.js';
import type { FreezeService } from './freeze-service.js';
import type { RollbackReads } from './rollback-reads.js';
import type { DrillRecords } from './drill-records.js';
import { contextOf } from './rollback-view.js';

export function freezeEffectHandler(deps: {
  store: Deployments & Docs;
  /** The rollback as of the effect's version or newer (the read model). */
  reads: Pick<RollbackReads, 'record'>;
  drills: Pick<DrillRecords, 'record'>;
  freezes: Pick<FreezeService, 'markBad'>;
  log: Logger;
}): EffectHandler {
  return async (effect: OutboxEffect) => {
    if (effect.payload['on'] !== false) return;
    const rollback = (await deps.reads.record(effect.rollbackId, effect.version))?.rollback;
    if (!rollback || rollback.state !== 'resolved') return;
    const context = contextOf(rollback);
    if (!context.drill) {
      await recordOutcome(deps, rollback.id, context, context.outcome?.at ?? rollback.updatedAt);
      return;
    }
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

/**
 * A resolved rollback is a deployment: the restored version becomes the current one (so the next
 * `/rollback` does not propose the same rollback again), and the version it moved away from is
 * marked bad until a human clears it. Once per rollback, however often the effect is delivered.
 */
async function recordOutcome(
  deps: Parameters<typeof freezeEffectHandler>[0],
  rollbackId: string,
  context: RollbackContext,
  at: number,
): Promise<void> {
  const restored = restoredVersion(context);
  await doOnce(deps.store, COLLECTIONS.rollbackOutcomes, rollbackId, async () => {
    await deps.store.recordDeployment({
      service: context.service,
      environment: context.environment,
      version: restored,
      by: `rollback-bot (${rollbackId})`,
      at,
    });
    if (context.fromVersion !== null && context.fromVersion !== restored) {
      await deps.freezes.markBad({
        service: context.service,
        environment: context.environment,
        version: context.fromVersion,
        rollbackId,
        at,
      });
    }
    deps.log.info(
      { rollbackId, service: context.service, restored, bad: context.fromVersion },
      'rollback resolved: restored version recorded as deployed',
    );
    return true;
  });
}
