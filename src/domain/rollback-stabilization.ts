/**
 * The stabilisation window after validation, as pure functions over a `Draft`. The window does not
 * just wait: every `stabilizeEveryMs` the plan's automatic checks run again, and a check that fails
 * more often than `stabilizeFailureLimit` allows, an inconclusive one, an alert for the service that
 * fires during the window, or one still firing when it ends, ends it and asks a human (re-validate,
 * abort, accept), as a failed validation does. A window whose end comes while a round is still
 * running waits for that round.
 */
import { formatDuration } from './duration.js';
import { STABILIZE_DEFAULTS } from './plan.js';
import type { EventOf } from './rollback-events.js';
import type { Draft } from './rollback-effects.js';
import type { CheckResult, Choice, FiringAlert, RollbackContext, Stabilization } from './rollback-types.js';

const CHOICES: Choice[] = ['revalidate', 'accept', 'abort'];

export function stabilizeEveryMs(ctx: RollbackContext): number {
  return ctx.strategy.stabilizeEveryMs ?? STABILIZE_DEFAULTS.everyMs;
}

export function stabilizeFailureLimit(ctx: RollbackContext): number {
  return ctx.strategy.stabilizeFailureLimit ?? STABILIZE_DEFAULTS.failureLimit;
}

const autoChecks = (ctx: RollbackContext): number[] =>
  ctx.checks.flatMap((check, index) => (check.kind === 'auto' ? [index] : []));

/** Rounds fit in the window when at least one starts before its end. */
function nextRoundAt(ctx: RollbackContext, window: Stabilization, from: number): number | null {
  const next = from + stabilizeEveryMs(ctx);
  return autoChecks(ctx).length > 0 && next < window.until ? next : null;
}

export function startStabilizing(d: Draft): void {
  const ms = d.context.strategy.stabilizeMs;
  if (ms <= 0) return;
  const window: Stabilization = {
    startedAt: d.at,
    until: d.at + ms,
    rounds: 0,
    failures: 0,
    over: false,
    last: {},
  };
  d.set({ stabilization: window });
  d.schedule('stabilize', window.until);
  const round = nextRoundAt(d.context, window, d.at);
  if (round !== null) d.schedule('probe', round);
}

export function clearStabilizeTimers(d: Draft): void {
  d.clearTimers(['stabilize', 'probe']);
}

/** A round: every automatic check runs again; the next round is scheduled if it fits. */
export function probeChecks(d: Draft): void {
  const window = d.context.stabilization;
  d.clearTimers(['probe']);
  if (!window) return;
  for (const index of autoChecks(d.context)) d.runCheck(index);
  d.set({ stabilization: { ...window, rounds: window.rounds + 1 } });
  const round = nextRoundAt(d.context, window, d.at);
  if (round !== null) d.schedule('probe', round);
}

/** The window's end came while a round still runs: it ends when the round does. */
export function markWindowOver(d: Draft): void {
  const window = d.context.stabilization;
  if (window) d.set({ stabilization: { ...window, over: true } });
}

export const checksRunning = (ctx: RollbackContext): boolean =>
  ctx.checks.some((check) => check.status === 'running');

/** The window is over and no round is left running: the rollback is resolved. */
export const windowDone = (ctx: RollbackContext): boolean =>
  ctx.stabilization?.over === true && !checksRunning(ctx);

type CheckEvent = EventOf<'CHECK_PASSED' | 'CHECK_FAILED' | 'CHECK_INCONCLUSIVE'>;

const statusOf = (event: CheckEvent): CheckResult['status'] =>
  event.type === 'CHECK_PASSED' ? 'succeeded' : event.type === 'CHECK_FAILED' ? 'failed' : 'inconclusive';

/** Would this result end the window (beyond the failure limit, or inconclusive)? */
export function resultEndsWindow(ctx: RollbackContext, event: CheckEvent): boolean {
  const window = ctx.stabilization;
  if (!window || event.type === 'CHECK_PASSED') return false;
  if (event.type === 'CHECK_INCONCLUSIVE') return true;
  return window.failures + 1 > stabilizeFailureLimit(ctx);
}

/** A check's result during the window: kept as its last result; a failure counted. */
export function recordRound(d: Draft, event: CheckEvent): void {
  const window = d.context.stabilization;
  const status = statusOf(event);
  d.updateCheck(event.check, (check) => ({
    ...check,
    status,
    at: event.at,
    by: event.by,
    ...(event.detail === undefined ? {} : { detail: event.detail }),
  }));
  if (!window) return;
  const last: CheckResult = {
    status,
    at: event.at,
    ...(event.detail === undefined ? {} : { detail: event.detail }),
  };
  d.set({
    stabilization: {
      ...window,
      failures: window.failures + (status === 'failed' ? 1 : 0),
      last: { ...window.last, [event.check]: last },
    },
  });
}

/** A round's result ended the window: the human is asked, the rest of the round is called off. */
export function checkEndedWindow(d: Draft, event: CheckEvent): void {
  recordRound(d, event);
  const window = d.context.stabilization!;
  const status = statusOf(event) === 'inconclusive' ? 'inconclusive' : 'failed';
  endWindow(d, `check ${d.context.checks[event.check]?.name ?? event.check}`);
  d.notify({
    event: 'stability-lost',
    checkIndex: event.check,
    alert: null,
    status,
    detail: event.detail ?? '',
    rounds: window.rounds,
    failures: window.failures,
    failureLimit: stabilizeFailureLimit(d.context),
    choices: CHOICES,
  });
}

/** The alerts firing now, as the incident side last told them. */
export function recordAlerts(d: Draft, event: EventOf<'ALERTS_FIRING'>): void {
  d.set({ firingAlerts: event.alerts.map((alert) => ({ ...alert })) });
}

/** An alert that was not firing before this event: it fired during the window. */
export function newlyFiring(ctx: RollbackContext, event: EventOf<'ALERTS_FIRING'>): FiringAlert | undefined {
  const before = new Set((ctx.firingAlerts ?? []).map((alert) => alert.fingerprint));
  return event.alerts.find((alert) => !before.has(alert.fingerprint));
}

export const alertsStillFiring = (ctx: RollbackContext): boolean => (ctx.firingAlerts ?? []).length > 0;

/** An alert for the service fired during the window. */
export function alertEndedWindow(d: Draft, event: EventOf<'ALERTS_FIRING'>): void {
  const fired = newlyFiring(d.context, event);
  recordAlerts(d, event);
  if (fired) lostToAlert(d, fired, `${fired.name} fired during the stabilisation window`);
}

/** The window's end came with an alert still firing: the service is not stable yet. */
export function alertStillFiring(d: Draft): void {
  const firing = d.context.firingAlerts?.[0];
  if (firing)
    lostToAlert(d, firing, `${firing.name} was still firing at the end of the stabilisation window`);
}

function lostToAlert(d: Draft, alert: FiringAlert, what: string): void {
  const window = d.context.stabilization;
  endWindow(d, `alert ${alert.name}`);
  d.notify({
    event: 'stability-lost',
    checkIndex: null,
    alert: alert.name,
    status: 'failed',
    detail: alert.summary === undefined ? what : `${what}: ${alert.summary}`,
    rounds: window?.rounds ?? 0,
    failures: window?.failures ?? 0,
    failureLimit: stabilizeFailureLimit(d.context),
    choices: CHOICES,
  });
}

function endWindow(d: Draft, endedBy: string): void {
  const window = d.context.stabilization;
  d.set({
    checks: d.context.checks.map((check) =>
      check.status === 'running' ? { ...check, status: 'skipped' } : check,
    ),
    ...(window ? { stabilization: { ...window, endedBy } } : {}),
  });
}

/** The resolution's words: how long it stayed stable, and what was checked meanwhile. */
export function stabilityWords(ctx: RollbackContext): string {
  const ms = ctx.strategy.stabilizeMs;
  if (ms <= 0) return '';
  const window = ctx.stabilization;
  const rounds =
    window && window.rounds > 0
      ? ` (${window.rounds} round${window.rounds === 1 ? '' : 's'} of checks, ${window.failures === 0 ? 'no failure' : `${window.failures} failure${window.failures === 1 ? '' : 's'} tolerated`})`
      : '';
  return `; stable for ${formatDuration(ms)}${rounds}`;
}
