/**
 * Watching key metrics while the steps run, as pure functions over a `Draft`. A strategy's `watch`
 * checks are sampled every `everyMs` from authorisation until validation; their last results are
 * kept for the card and the periodic update. A sample that fails (a breached threshold) asks a human
 * at once (continue, abort) and holds the next step until one answers: a rollback that makes things
 * worse is stopped by a person, not carried on blindly. An inconclusive sample is shown, not acted on.
 */
import type { EventOf } from './rollback-events.js';
import type { Draft } from './rollback-effects.js';
import type { Choice, RollbackContext, WatchState } from './rollback-types.js';

const CHOICES: Choice[] = ['continue', 'abort'];

export function initialWatches(ctx: Pick<RollbackContext, 'strategy'>): WatchState[] {
  return (ctx.strategy.watch?.checks ?? []).map((check) => ({
    name: check.name,
    uses: check.uses,
    status: 'pending',
    attempts: 0,
  }));
}

const watchesOf = (ctx: RollbackContext): WatchState[] => ctx.watches ?? initialWatches(ctx);

/** The first sample comes one interval after execution begins. */
export function startWatching(d: Draft): void {
  const every = d.context.strategy.watch?.everyMs;
  if (every === undefined || watchesOf(d.context).length === 0) return;
  d.set({ watches: watchesOf(d.context) });
  d.schedule('watch', d.at + every);
}

/** A sample of every watch; the next one is scheduled. */
export function sampleWatches(d: Draft): void {
  const watches = watchesOf(d.context);
  const next = watches.map((watch) => ({
    ...watch,
    status: 'running' as const,
    attempts: watch.attempts + 1,
  }));
  d.set({ watches: next });
  next.forEach((watch, index) => {
    d.emit({ kind: 'runWatch', watchIndex: index, attempt: watch.attempts });
  });
  const every = d.context.strategy.watch?.everyMs;
  if (every !== undefined) d.schedule('watch', d.at + every);
}

export function stopWatching(d: Draft): void {
  d.clearTimers(['watch']);
}

/** Whether a sample is the current attempt of a known watch (a late one is stale). */
export function sampleIsCurrent(ctx: RollbackContext, event: EventOf<'WATCH_SAMPLED'>): boolean {
  const watch = ctx.watches?.[event.watch];
  return watch !== undefined && watch.attempts === event.attempt && watch.status === 'running';
}

export function recordSample(d: Draft, event: EventOf<'WATCH_SAMPLED'>): void {
  const watches = watchesOf(d.context).map((watch, index) =>
    index === event.watch
      ? {
          ...watch,
          status: event.status,
          at: event.at,
          ...(event.detail === undefined ? {} : { detail: event.detail }),
        }
      : watch,
  );
  d.set({ watches });
  if (event.status !== 'breached' || d.context.watchHold) return;
  d.set({ watchHold: { watchIndex: event.watch, detail: event.detail ?? '', at: event.at } });
  d.notify({
    event: 'watch-breached',
    watchIndex: event.watch,
    detail: event.detail ?? '',
    stepIndex: d.context.currentStep,
    choices: CHOICES,
  });
}

export const watchHolds = (ctx: RollbackContext): boolean => Boolean(ctx.watchHold);

/** A human saw the breach and lets the rollback go on; a later breach asks again. */
export function releaseHold(d: Draft): void {
  d.set({ watchHold: null });
}
