/**
 * The record of rollbacks once they happened: history rows, the KPIs of the seed runbook ("Rollback
 * Metrics and KPIs") and the post-mortem timeline. Pure: the caller passes the rollbacks' contexts
 * (and audit trails) and `now`.
 *
 * What each KPI measures (drills never count: they rehearse, they do not recover anything):
 * - time to detect: incident start (the alert's `startsAt`, else the declaration) -> declaration;
 *   seed target "< 5 minutes from issue to rollback initiation".
 * - time to approve: declaration -> authorised (last approval, or the policy for an automatic
 *   trigger); the seeds set no target.
 * - time to roll back: declaration -> resolved; seed target "< 15 minutes for any deployment type".
 * - recovery time: incident start -> resolved; seed target "< 30 minutes total incident duration".
 * - success rate: resolved / rollbacks that were authorised and have ended (resolved, failed or
 *   aborted: a rollback cancelled after execution began ends `aborted`). Rejected, cancelled-before-
 *   execution and expired rollbacks never ran, so they are neither successes nor failures.
 *   Seed target "> 99 %".
 * A duration KPI is met when every sample is within its target (the seed says "for any deployment
 * type"), so one slow rollback shows; the share within target is given beside it.
 */
import type { OutcomeCode, RollbackContext } from './rollback-types.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const KPI_TARGETS = {
  detectMs: 5 * MINUTE,
  rollbackMs: 15 * MINUTE,
  recoveryMs: 30 * MINUTE,
  /** Strictly above this share. */
  successRate: 0.99,
} as const;

export const DEFAULT_STATS_PERIOD_MS = 30 * DAY;

/** A rollback as the record needs it: its id, top-level state and machine context. */
export interface RecordedRollback {
  id: string;
  state: string;
  context: RollbackContext;
}

/** An audit entry as the store keeps it (structurally: the domain imports nothing of ours). */
export interface AuditRecord {
  at: number;
  event: string;
  by: string;
  state: string;
  detail?: Record<string, unknown>;
}

const ENDED_AFTER_AUTHORISATION: ReadonlySet<OutcomeCode> = new Set(['resolved', 'failed', 'aborted']);

// --- history -----------------------------------------------------------------------------------

export interface HistoryRow {
  id: string;
  /** Declaration time. */
  date: number;
  service: string;
  environment: string;
  fromVersion: string | null;
  toVersion: string;
  reason: string;
  outcome: OutcomeCode;
  /** Declaration -> end. */
  durationMs: number;
  /**
   * Whose decision ended it: for a resolved rollback the person who accepted a failed validation,
   * else who authorised it (the last approver, or `policy`); otherwise who ended it.
   */
  resolvedBy: string;
  drill: boolean;
}

export const HISTORY_LIMIT = 20;

/** Finished rollbacks, newest first (by declaration, then id), at most `limit`. */
export function historyRows(
  rollbacks: readonly RecordedRollback[],
  options: { service?: string; limit?: number } = {},
): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (const { id, context: ctx } of rollbacks) {
    if (ctx.outcome === null) continue;
    if (options.service !== undefined && ctx.service !== options.service) continue;
    const outcome = ctx.outcome;
    rows.push({
      id,
      date: ctx.declaredAt,
      service: ctx.service,
      environment: ctx.environment,
      fromVersion: ctx.fromVersion,
      toVersion: ctx.toVersion,
      reason: ctx.reason,
      outcome: outcome.code,
      durationMs: Math.max(0, outcome.at - ctx.declaredAt),
      resolvedBy:
        outcome.code === 'resolved'
          ? (ctx.acceptance?.by ?? ctx.authorization?.by ?? outcome.by)
          : outcome.by,
      drill: ctx.drill,
    });
  }
  rows.sort((a, b) => b.date - a.date || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return rows.slice(0, Math.max(0, options.limit ?? HISTORY_LIMIT));
}

// --- stats -------------------------------------------------------------------------------------

export interface DurationKpi {
  samples: number;
  p50Ms: number | null;
  avgMs: number | null;
  maxMs: number | null;
  /** null: the seeds set no target. */
  targetMs: number | null;
  withinTarget: number;
  /** null when there is no sample or no target. */
  met: boolean | null;
}

export interface RateKpi {
  succeeded: number;
  attempted: number;
  /** null when nothing was attempted. */
  rate: number | null;
  target: number;
  met: boolean | null;
}

export interface RollbackStats {
  from: number;
  to: number;
  /** Rollbacks declared in the period, drills excluded. */
  declared: number;
  drillsExcluded: number;
  outcomes: Partial<Record<OutcomeCode, number>>;
  timeToDetect: DurationKpi;
  timeToApprove: DurationKpi;
  timeToRollBack: DurationKpi;
  recoveryTime: DurationKpi;
  successRate: RateKpi;
}

/** Nearest-rank percentile of sorted samples. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function durationKpi(samples: readonly number[], targetMs: number | null): DurationKpi {
  const sorted = samples.map((s) => Math.max(0, s)).sort((a, b) => a - b);
  const n = sorted.length;
  const withinTarget = targetMs === null ? 0 : sorted.filter((s) => s < targetMs).length;
  return {
    samples: n,
    p50Ms: percentile(sorted, 50),
    avgMs: n === 0 ? null : Math.round(sorted.reduce((sum, s) => sum + s, 0) / n),
    maxMs: n === 0 ? null : sorted[n - 1]!,
    targetMs,
    withinTarget,
    met: n === 0 || targetMs === null ? null : withinTarget === n,
  };
}

/**
 * KPIs over the rollbacks declared in `[now - periodMs, now]` (default 30 days), drills excluded.
 * Rollbacks still running count as declared and feed time to detect (and to approve once
 * authorised), not the end-to-end figures.
 */
export function rollbackStats(
  rollbacks: readonly RecordedRollback[],
  options: { now: number; periodMs?: number },
): RollbackStats {
  const to = options.now;
  const from = to - (options.periodMs ?? DEFAULT_STATS_PERIOD_MS);
  const inPeriod = rollbacks
    .map((r) => r.context)
    .filter((ctx) => ctx.declaredAt >= from && ctx.declaredAt <= to);
  const real = inPeriod.filter((ctx) => !ctx.drill);
  const outcomes: Partial<Record<OutcomeCode, number>> = {};
  const detect: number[] = [];
  const approve: number[] = [];
  const rollBack: number[] = [];
  const recovery: number[] = [];
  let attempted = 0;
  let succeeded = 0;
  for (const ctx of real) {
    detect.push(ctx.declaredAt - ctx.incidentStartedAt);
    if (ctx.authorization) approve.push(ctx.authorization.at - ctx.declaredAt);
    const outcome = ctx.outcome;
    if (!outcome) continue;
    outcomes[outcome.code] = (outcomes[outcome.code] ?? 0) + 1;
    if (ctx.authorization && ENDED_AFTER_AUTHORISATION.has(outcome.code)) {
      attempted++;
      if (outcome.code === 'resolved') succeeded++;
    }
    if (outcome.code === 'resolved') {
      rollBack.push(outcome.at - ctx.declaredAt);
      recovery.push(outcome.at - ctx.incidentStartedAt);
    }
  }
  const rate = attempted === 0 ? null : succeeded / attempted;
  return {
    from,
    to,
    declared: real.length,
    drillsExcluded: inPeriod.length - real.length,
    outcomes,
    timeToDetect: durationKpi(detect, KPI_TARGETS.detectMs),
    timeToApprove: durationKpi(approve, null),
    timeToRollBack: durationKpi(rollBack, KPI_TARGETS.rollbackMs),
    recoveryTime: durationKpi(recovery, KPI_TARGETS.recoveryMs),
    successRate: {
      succeeded,
      attempted,
      rate,
      target: KPI_TARGETS.successRate,
      met: rate === null ? null : rate > KPI_TARGETS.successRate,
    },
  };
}
