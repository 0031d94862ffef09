/**
 * Metrics from commits: each transition's effects counted once, drills labelled, handler failures
 * counted and still thrown, and two bots in one process keep separate registries.
 */
import { describe, expect, it } from 'vitest';
import { persist } from '../../../src/domain/rollback-machine.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import type { OutboxEffect, StoredRollback } from '../../../src/store/store.js';
import type { RollbackEvent } from '../../../src/domain/rollback-events.js';
import { MINUTE, SECOND, at, blueGreenWithAfter, rollbackInput } from '../../support/domain-fixtures.js';
import { RecordingDriver } from '../../support/record-fixtures.js';
import { ev } from '../../support/rollback-driver.js';

/** Drives the machine and feeds each transition to `observeCommit`, as the engine's listener does. */
function observed(
  drill: boolean,
  events: Array<RollbackEvent | ((run: RecordingDriver) => RollbackEvent)>,
  input = rollbackInput({ drill }),
) {
  const metrics = createMetrics({ defaultMetrics: false });
  const run = new RecordingDriver(input);
  const commit = (): void => {
    const ctx = run.ctx;
    const version = run.audit.length;
    const rollback: StoredRollback = {
      id: ctx.id,
      service: ctx.service,
      environment: ctx.environment,
      version,
      state: run.state,
      final: ctx.outcome !== null,
      snapshot: persist(run.snapshot),
      createdAt: ctx.declaredAt,
      updatedAt: ctx.lastEventAt,
    };
    const effects: OutboxEffect[] = run.effects.map(({ kind, ...payload }, i) => ({
      id: `${ctx.id}:${version}:${i}`,
      rollbackId: ctx.id,
      version,
      kind,
      payload,
      createdAt: ctx.lastEventAt,
    }));
    metrics.observeCommit(rollback, effects);
  };
  commit();
  for (const event of events) {
    run.send(typeof event === 'function' ? event(run) : event);
    commit();
  }
  return metrics;
}

const value = async (metrics: ReturnType<typeof createMetrics>, line: string): Promise<string | undefined> =>
  (await metrics.render()).body.split('\n').find((l) => l.startsWith(line));

/** The `after` timer as it is scheduled now. */
const afterTimer = (run: RecordingDriver): RollbackEvent =>
  ev.timer(run.ctx.deadlines.after!.dueAt, 'after', run.ctx.deadlines.after!.seq);

describe('metrics', () => {
  it('counts steps after resolution by outcome, and the rollback once, as resolved', async () => {
    const metrics = observed(
      false,
      [
        ev.approve(at(MINUTE)),
        ev.started(at(MINUTE + SECOND), 0),
        ev.succeeded(at(MINUTE + 2 * SECOND), 0),
        ev.started(at(MINUTE + 3 * SECOND), 1),
        ev.succeeded(at(MINUTE + 4 * SECOND), 1),
        ev.checkPassed(at(2 * MINUTE), 0),
        ev.manualDone(at(2 * MINUTE), 1),
        afterTimer,
        (run) => ev.afterStarted(run.ctx.afterSteps![0]!.dueAt, 0),
        (run) => ev.afterFailed(run.ctx.afterSteps![0]!.dueAt + SECOND, 0),
      ],
      rollbackInput({ strategy: blueGreenWithAfter({ stabilizeMs: 0 }) }),
    );
    const body = (await metrics.render()).body;
    expect(body).toContain(
      'rollback_bot_after_steps_total{executor="command",outcome="failed",drill="false"} 1',
    );
    expect(body).toContain(
      'rollback_bot_after_steps_total{executor="http",outcome="skipped",drill="false"} 1',
    );
    expect(body).toContain(
      'rollback_bot_rollbacks_ended_total{service="checkout",environment="production",drill="false",outcome="resolved"} 1',
    );
    // The rollback's duration ends at its resolution, not when its clean-up ran.
    expect(await value(metrics, 'rollback_bot_rollback_duration_seconds_sum')).toBe(
      'rollback_bot_rollback_duration_seconds_sum{service="checkout",environment="production",drill="false",outcome="resolved"} 120',
    );
  });

  it('counts steps after resolution a new rollback called off as cancelled', async () => {
    const metrics = observed(
      false,
      [
        ev.approve(at(MINUTE)),
        ev.started(at(MINUTE + SECOND), 0),
        ev.succeeded(at(MINUTE + 2 * SECOND), 0),
        ev.started(at(MINUTE + 3 * SECOND), 1),
        ev.succeeded(at(MINUTE + 4 * SECOND), 1),
        ev.checkPassed(at(2 * MINUTE), 0),
        ev.manualDone(at(2 * MINUTE), 1),
        afterTimer,
        (run) => ev.afterStarted(run.ctx.afterSteps![0]!.dueAt, 0),
        (run) => ev.superseded(run.ctx.afterSteps![0]!.dueAt + SECOND, 'rb-2'),
      ],
      rollbackInput({ strategy: blueGreenWithAfter({ stabilizeMs: 0 }) }),
    );
    const body = (await metrics.render()).body;
    expect(body).toContain(
      'rollback_bot_after_steps_total{executor="command",outcome="cancelled",drill="false"} 1',
    );
    expect(body).toContain(
      'rollback_bot_after_steps_total{executor="http",outcome="cancelled",drill="false"} 1',
    );
  });

  it('counts a declaration, the steps by executor and the end, with durations', async () => {
    const metrics = observed(false, [
      ev.approve(at(MINUTE)),
      ev.started(at(MINUTE + SECOND), 0),
      ev.failed(at(MINUTE + 31 * SECOND), 0),
      ev.abort(at(2 * MINUTE)),
    ]);
    expect(await value(metrics, 'rollback_bot_rollbacks_declared_total')).toBe(
      'rollback_bot_rollbacks_declared_total{service="checkout",environment="production",drill="false"} 1',
    );
    expect(await value(metrics, 'rollback_bot_step_outcomes_total')).toBe(
      'rollback_bot_step_outcomes_total{executor="healthcheck",outcome="failed",drill="false"} 1',
    );
    expect(await value(metrics, 'rollback_bot_step_duration_seconds_sum')).toBe(
      'rollback_bot_step_duration_seconds_sum{executor="healthcheck",outcome="failed",drill="false"} 30',
    );
    expect(await value(metrics, 'rollback_bot_approval_wait_seconds_sum')).toBe(
      'rollback_bot_approval_wait_seconds_sum{environment="production",via="approval",drill="false"} 60',
    );
    expect(await value(metrics, 'rollback_bot_rollbacks_ended_total')).toBe(
      'rollback_bot_rollbacks_ended_total{service="checkout",environment="production",drill="false",outcome="aborted"} 1',
    );
    expect(await value(metrics, 'rollback_bot_rollback_duration_seconds_sum')).toBe(
      'rollback_bot_rollback_duration_seconds_sum{service="checkout",environment="production",drill="false",outcome="aborted"} 120',
    );
  });

  it('labels drills', async () => {
    const metrics = observed(true, [ev.cancel(at(MINUTE))]);
    expect(await value(metrics, 'rollback_bot_rollbacks_ended_total')).toContain(
      'drill="true",outcome="cancelled"} 1',
    );
  });

  it('counts handler failures by kind and still throws, so the outbox delivers again', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const handlers = metrics.instrumentHandlers({
      notify: () => Promise.reject(new Error('slack down')),
      freeze: () => Promise.resolve(),
    });
    const effect = { id: 'e', rollbackId: 'rb', version: 1, kind: 'notify', payload: {}, createdAt: 0 };
    const context = {
      signal: new AbortController().signal,
      deliveries: 1,
      keepAlive: () => Promise.resolve(),
    };
    await expect(handlers['notify']!(effect, context)).rejects.toThrow('slack down');
    await handlers['freeze']!(effect, context);
    expect(await value(metrics, 'rollback_bot_effect_handler_failures_total')).toBe(
      'rollback_bot_effect_handler_failures_total{kind="notify"} 1',
    );
  });

  it('keeps two bots in one process apart, default metrics included', async () => {
    const one = createMetrics();
    const two = createMetrics();
    one.alertsReceived.inc({ source: 'grafana', outcome: 'opened' });
    one.incidentsOpened.inc({ service: 'checkout', environment: 'production' });
    expect(await value(one, 'rollback_bot_alerts_received_total{')).toContain('} 1');
    expect(await value(two, 'rollback_bot_alerts_received_total{')).toBeUndefined();
    expect((await two.render()).body).toContain('rollback_bot_process_cpu_user_seconds_total');
    expect((await one.render()).contentType).toContain('text/plain');
  });
});
