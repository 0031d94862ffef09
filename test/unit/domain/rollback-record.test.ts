/**
 * The record: history rows, the seeds' KPIs (what counts, drills excluded, the period) and the
 * post-mortem timeline, from rollbacks driven through the real machine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postMortemTimeline, type TimelineEvent } from '../../../src/domain/post-mortem-timeline.js';
import {
  KPI_TARGETS,
  durationKpi,
  historyRows,
  rollbackStats,
  type RecordedRollback,
} from '../../../src/domain/rollback-record.js';
import {
  MINUTE,
  ROLES,
  SECOND,
  T0,
  USERS,
  at,
  rollbackInput,
  standardStrategy,
} from '../../support/domain-fixtures.js';
import { RecordingDriver, quickResolved, resolvedJourney } from '../../support/record-fixtures.js';
import { ev } from '../../support/rollback-driver.js';

const DAY = 24 * 60 * MINUTE;
const NOW = T0 + 40 * DAY;

function aborted(id: string, start: number): RecordedRollback {
  const run = new RecordingDriver(rollbackInput({ id, at: start + MINUTE, incidentStartedAt: start }));
  run.send(ev.approve(start + 2 * MINUTE));
  run.send(ev.started(start + 3 * MINUTE, 0));
  run.send(ev.failed(start + 4 * MINUTE, 0));
  run.send(ev.abort(start + 5 * MINUTE, USERS.lead, ROLES.lead));
  return run.record();
}

function rejected(id: string, start: number): RecordedRollback {
  const run = new RecordingDriver(rollbackInput({ id, at: start, incidentStartedAt: start }));
  run.send(ev.reject(start + MINUTE));
  return run.record();
}

function active(id: string, start: number): RecordedRollback {
  return new RecordingDriver(
    rollbackInput({ id, at: start + 3 * MINUTE, incidentStartedAt: start }),
  ).record();
}

describe('history rows', () => {
  const rollbacks = [
    quickResolved('rb-old', {
      start: NOW - 3 * DAY,
      declareAfter: MINUTE,
      approveAfter: MINUTE,
      takes: 9 * MINUTE,
    }),
    aborted('rb-aborted', NOW - 2 * DAY),
    quickResolved('rb-drill', {
      start: NOW - DAY,
      declareAfter: 0,
      approveAfter: MINUTE,
      takes: 4 * MINUTE,
      drill: true,
      service: 'payments',
    }),
    active('rb-active', NOW - DAY / 2),
  ];

  it('lists finished rollbacks newest first with the seed columns', () => {
    const rows = historyRows(rollbacks);
    expect(rows.map((r) => r.id)).toEqual(['rb-drill', 'rb-aborted', 'rb-old']);
    expect(rows[2]).toEqual({
      id: 'rb-old',
      date: NOW - 3 * DAY + MINUTE,
      service: 'checkout',
      environment: 'production',
      fromVersion: 'v1.5.0',
      toVersion: 'v1.4.1',
      reason: '5xx spike',
      outcome: 'resolved',
      durationMs: 9 * MINUTE,
      resolvedBy: USERS.oncall,
      drill: false,
    });
    expect(rows[1]).toMatchObject({ outcome: 'aborted', resolvedBy: USERS.lead, durationMs: 4 * MINUTE });
    expect(rows[0]).toMatchObject({ drill: true, service: 'payments' });
  });

  it('filters by service and bounds the rows', () => {
    expect(historyRows(rollbacks, { service: 'payments' }).map((r) => r.id)).toEqual(['rb-drill']);
    expect(historyRows(rollbacks, { service: 'nope' })).toEqual([]);
    expect(historyRows(rollbacks, { limit: 1 }).map((r) => r.id)).toEqual(['rb-drill']);
  });
});

describe('KPIs', () => {
  const start = NOW - 10 * DAY;
  const rollbacks = [
    quickResolved('rb-1', { start, declareAfter: 2 * MINUTE, approveAfter: MINUTE, takes: 10 * MINUTE }),
    quickResolved('rb-2', {
      start: start + DAY,
      declareAfter: 4 * MINUTE,
      approveAfter: 3 * MINUTE,
      takes: 12 * MINUTE,
    }),
    // Slow detection and slow rollback: both targets are missed because of it.
    quickResolved('rb-3', {
      start: start + 2 * DAY,
      declareAfter: 8 * MINUTE,
      approveAfter: 5 * MINUTE,
      takes: 20 * MINUTE,
    }),
    aborted('rb-4', start + 3 * DAY),
    rejected('rb-5', start + 4 * DAY),
    active('rb-6', start + 5 * DAY),
    // Drills never count, whatever they did.
    quickResolved('rb-drill', {
      start: start + 6 * DAY,
      declareAfter: 0,
      approveAfter: 0,
      takes: 99 * MINUTE,
      drill: true,
    }),
    // Outside the 30-day period.
    quickResolved('rb-ancient', { start: NOW - 45 * DAY, declareAfter: 0, approveAfter: 0, takes: MINUTE }),
  ];

  it('measures each KPI as documented, against the seed targets', () => {
    const stats = rollbackStats(rollbacks, { now: NOW });
    expect(stats.from).toBe(NOW - 30 * DAY);
    expect(stats.declared).toBe(6);
    expect(stats.drillsExcluded).toBe(1);
    expect(stats.outcomes).toEqual({ resolved: 3, aborted: 1, rejected: 1 });
    // detect: 2, 4, 8 (resolved ones), 1 (aborted), 0 (rejected), 3 (active)
    expect(stats.timeToDetect).toEqual({
      samples: 6,
      p50Ms: 2 * MINUTE,
      avgMs: 3 * MINUTE,
      maxMs: 8 * MINUTE,
      targetMs: KPI_TARGETS.detectMs,
      withinTarget: 5,
      met: false,
    });
    expect(stats.timeToApprove).toMatchObject({ samples: 4, maxMs: 5 * MINUTE, targetMs: null, met: null });
    expect(stats.timeToRollBack).toMatchObject({
      samples: 3,
      p50Ms: 12 * MINUTE,
      maxMs: 20 * MINUTE,
      withinTarget: 2,
      met: false,
    });
    expect(stats.recoveryTime).toMatchObject({ samples: 3, maxMs: 28 * MINUTE, met: true });
    // Resolved 3 of the 4 authorised rollbacks that ended (the rejected one never ran).
    expect(stats.successRate).toEqual({ succeeded: 3, attempted: 4, rate: 0.75, target: 0.99, met: false });
  });

  it('says "no data" rather than inventing figures for an empty period', () => {
    const stats = rollbackStats([], { now: NOW, periodMs: DAY });
    expect(stats.timeToDetect).toMatchObject({ samples: 0, p50Ms: null, met: null });
    expect(stats.successRate).toMatchObject({ rate: null, met: null });
  });

  it('meets every target when every rollback is quick and resolved', () => {
    const quick = [1, 2, 3].map((i) =>
      quickResolved(`rb-${i}`, {
        start: NOW - i * DAY,
        declareAfter: MINUTE,
        approveAfter: 0,
        takes: 5 * MINUTE,
      }),
    );
    const stats = rollbackStats(quick, { now: NOW });
    expect([
      stats.timeToDetect.met,
      stats.timeToRollBack.met,
      stats.recoveryTime.met,
      stats.successRate.met,
    ]).toEqual([true, true, true, true]);
  });

  it('duration figures are consistent for any samples (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * DAY }), { maxLength: 50 }),
        fc.option(fc.integer({ min: 1, max: DAY }), { nil: null }),
        (samples, target) => {
          const kpi = durationKpi(samples, target);
          expect(kpi.samples).toBe(samples.length);
          if (samples.length === 0) {
            expect([kpi.p50Ms, kpi.avgMs, kpi.maxMs, kpi.met]).toEqual([null, null, null, null]);
            return;
          }
          const min = Math.min(...samples);
          const max = Math.max(...samples);
          expect(kpi.maxMs).toBe(max);
          expect(kpi.p50Ms).toBeGreaterThanOrEqual(min);
          expect(kpi.p50Ms).toBeLessThanOrEqual(max);
          expect(kpi.avgMs).toBeGreaterThanOrEqual(min);
          expect(kpi.avgMs).toBeLessThanOrEqual(max);
          expect(kpi.withinTarget).toBeLessThanOrEqual(samples.length);
          expect(kpi.met).toBe(target === null ? null : max < target);
        },
      ),
    );
  });
});

const summary = (events: TimelineEvent[]): string[] =>
  events.map((e) => {
    const t = `+${(e.at - T0) / SECOND}s`;
    switch (e.kind) {
      case 'step':
        return `${t} ${e.by} step${e.step}:${e.status}`;
      case 'check':
        return `${t} ${e.by} check${e.check}:${e.status}`;
      case 'approved':
        return `${t} ${e.by} approved:${e.role}`;
      case 'ended':
        return `${t} ${e.by} ended:${e.outcome}`;
      default:
        return `${t} ${e.by} ${e.kind}`;
    }
  });

describe('post-mortem timeline', () => {
  it('has every event in order with its actor, the derived ones right after their cause', () => {
    const run = resolvedJourney();
    expect(run.state).toBe('resolved');
    expect(summary(postMortemTimeline(run.ctx, run.audit))).toEqual([
      '+0s system incident-started',
      `+125s ${USERS.declarer} declared`,
      `+190s ${USERS.oncall} approved:on-call-engineer`,
      `+190s ${USERS.oncall} authorized`,
      '+191s system step0:started',
      '+200s system step0:succeeded',
      '+201s system step1:started',
      '+230s system step1:failed',
      `+250s ${USERS.lead} step1:retry`,
      '+251s system step1:started',
      '+290s system step1:succeeded',
      '+300s system check0:passed',
      `+320s ${USERS.oncall} check1:done`,
      `+320s ${USERS.oncall} validated`,
      '+620s system ended:resolved',
    ]);
  });

  it('keeps commit order when the clock did not move, and names the policy for an automatic start', () => {
    const run = new RecordingDriver(
      rollbackInput({
        at: at(0),
        trigger: { kind: 'auto', delayMs: MINUTE },
        strategy: { name: 'direct', steps: [], validate: [], stabilizeMs: 0 },
      }),
    );
    run.fire('pending');
    const events = postMortemTimeline(run.ctx, run.audit);
    expect(summary(events)).toEqual([
      `+0s ${USERS.declarer} incident-started`,
      `+0s ${USERS.declarer} declared`,
      '+60s policy authorized',
      '+60s system validated',
      '+60s system ended:resolved',
    ]);
    expect(events.find((e) => e.kind === 'incident-started')).toMatchObject({ fromAlert: false });
  });

  it('tells a step its when skipped, right after the result that led to it', () => {
    const steps = standardStrategy().steps;
    const strategy = standardStrategy({
      steps: [
        steps[0]!,
        {
          ...steps[1]!,
          when: { ref: 'steps.nothing.output.x', negate: false, text: '{{ steps.nothing.output.x }}' },
        },
      ],
    });
    const run = new RecordingDriver(rollbackInput({ strategy }));
    run.send(ev.approve(at(MINUTE)));
    run.send(ev.started(at(2 * MINUTE), 0));
    run.send(ev.succeeded(at(3 * MINUTE), 0));
    const events = postMortemTimeline(run.ctx, run.audit);
    expect(summary(events).slice(-3)).toEqual([
      '+120s system step0:started',
      '+180s system step0:succeeded',
      '+180s system step1:skipped',
    ]);
    expect(events.at(-1)).toMatchObject({ reason: 'steps.nothing.output.x had no value' });
  });

  it('tells an aborted rollback with the failing step and who aborted it', () => {
    const run = new RecordingDriver(rollbackInput());
    run.send(ev.approve(at(MINUTE)));
    run.send(ev.started(at(2 * MINUTE), 0));
    run.send(ev.failed(at(3 * MINUTE), 0, 'HTTP 502'));
    run.send(ev.abort(at(4 * MINUTE), USERS.lead, ROLES.lead));
    const events = postMortemTimeline(run.ctx, run.audit);
    expect(events.find((e) => e.kind === 'step' && e.status === 'failed')).toMatchObject({
      error: 'HTTP 502',
    });
    expect(events.at(-1)).toMatchObject({ kind: 'ended', outcome: 'aborted', by: USERS.lead });
    expect(events.some((e) => e.kind === 'validated')).toBe(false);
  });
});
