/**
 * Prometheus metrics (`GET /metrics`). Each bot owns its Registry, never prom-client's global one, so
 * several bots in one test process do not collide. Rollback figures are fed from the engine's
 * commit listener: every accepted transition is committed by exactly one replica, so each is counted
 * once across replicas (Prometheus sums the replicas). Drills carry `drill="true"` so dashboards and
 * SLOs can leave them out.
 */
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { contextOf } from '../app/rollback-view.js';
import type { RollbackContext } from '../domain/rollback-types.js';
import type { Committed } from '../engine/engine.js';
import type { EffectHandler } from '../engine/outbox-worker.js';
import type { OutboxEffect, StoredRollback } from '../store/store.js';

const PREFIX = 'rollback_bot_';
const ENDINGS: ReadonlySet<string> = new Set([
  'resolved',
  'failed',
  'aborted',
  'cancelled',
  'rejected',
  'expired',
]);
const STEP_OUTCOMES: Readonly<Record<string, string>> = {
  'step-succeeded': 'succeeded',
  'step-failed': 'failed',
  'step-interrupted': 'interrupted',
};

const AFTER_STEP_OUTCOMES: Readonly<Record<string, string>> = {
  'after-step-succeeded': 'succeeded',
  'after-step-failed': 'failed',
  'after-step-interrupted': 'interrupted',
};

export interface Metrics {
  registry: Registry;
  rollbacksDeclared: Counter<'service' | 'environment' | 'drill'>;
  rollbacksEnded: Counter<'service' | 'environment' | 'outcome' | 'drill'>;
  /** Declaration -> end, seconds. */
  rollbackDuration: Histogram<'service' | 'environment' | 'outcome' | 'drill'>;
  stepOutcomes: Counter<'executor' | 'outcome' | 'drill'>;
  /** One attempt, start -> end, seconds. */
  stepDuration: Histogram<'executor' | 'outcome' | 'drill'>;
  /** Declaration -> authorised, seconds. */
  approvalWait: Histogram<'environment' | 'via' | 'drill'>;
  /**
   * Steps after resolution that ended, by outcome: succeeded, failed, interrupted, skipped (one
   * above failed) or cancelled (a new rollback superseded them). The rollback stays resolved
   * whatever they do, so a failure shows only here and in its thread: alert on it.
   */
  afterSteps: Counter<'executor' | 'outcome' | 'drill'>;
  effectHandlerFailures: Counter<'kind'>;
  /** For the alert receivers: `source` (alertmanager, grafana, sns, generic), `outcome` (opened, grouped, ignored, refused ...). */
  alertsReceived: Counter<'source' | 'outcome'>;
  incidentsOpened: Counter<'service' | 'environment'>;
  /** Feeds the rollback figures; give it to `engine.onCommitted`. */
  observeCommit(rollback: StoredRollback, effects: readonly OutboxEffect[]): void;
  /**
   * The engine's commit listener: it runs inside the engine's write, so a metrics bug is logged,
   * never allowed to fail a committed transition.
   */
  commitListener: (log: Logger) => (committed: Committed) => void;
  /** An alert delivery's outcome (a delivery with no alert counts once). */
  countAlerts: (source: string, outcome: string, alerts: number) => void;
  /** The same handlers, counting the failures (the error still propagates: the outbox retries). */
  instrumentHandlers(handlers: Readonly<Record<string, EffectHandler>>): Record<string, EffectHandler>;
  /** Prometheus text exposition format. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const registers = [registry];

  const rollbacksDeclared = new Counter({
    name: `${PREFIX}rollbacks_declared_total`,
    help: 'Rollbacks declared.',
    labelNames: ['service', 'environment', 'drill'] as const,
    registers,
  });
  const rollbacksEnded = new Counter({
    name: `${PREFIX}rollbacks_ended_total`,
    help: 'Rollbacks that reached a final state, by outcome (resolved, failed, aborted, cancelled, rejected, expired).',
    labelNames: ['service', 'environment', 'outcome', 'drill'] as const,
    registers,
  });
  const rollbackDuration = new Histogram({
    name: `${PREFIX}rollback_duration_seconds`,
    help: 'Declaration to final state (the seed target for resolved: under 15 minutes).',
    labelNames: ['service', 'environment', 'outcome', 'drill'] as const,
    buckets: [60, 300, 600, 900, 1_800, 3_600, 7_200, 14_400],
    registers,
  });
  const stepOutcomes = new Counter({
    name: `${PREFIX}step_outcomes_total`,
    help: 'Step attempts that ended, by executor kind and outcome (succeeded, failed, interrupted).',
    labelNames: ['executor', 'outcome', 'drill'] as const,
    registers,
  });
  const stepDuration = new Histogram({
    name: `${PREFIX}step_duration_seconds`,
    help: 'One step attempt, start to end, by executor kind and outcome.',
    labelNames: ['executor', 'outcome', 'drill'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1_800],
    registers,
  });
  const approvalWait = new Histogram({
    name: `${PREFIX}approval_wait_seconds`,
    help: 'Declaration to authorisation (via approval or policy).',
    labelNames: ['environment', 'via', 'drill'] as const,
    buckets: [30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200],
    registers,
  });
  const afterSteps = new Counter({
    name: `${PREFIX}after_steps_total`,
    help: 'Steps after resolution that ended, by executor kind and outcome (succeeded, failed, interrupted, skipped, cancelled); the rollback stays resolved.',
    labelNames: ['executor', 'outcome', 'drill'] as const,
    registers,
  });
  const effectHandlerFailures = new Counter({
    name: `${PREFIX}effect_handler_failures_total`,
    help: 'Effect deliveries whose handler threw (the effect is delivered again).',
    labelNames: ['kind'] as const,
    registers,
  });
  const alertsReceived = new Counter({
    name: `${PREFIX}alerts_received_total`,
    help: 'Alerts received, by source and outcome; a refused delivery (bad_request, unauthorized) counts once.',
    labelNames: ['source', 'outcome'] as const,
    registers,
  });
  const incidentsOpened = new Counter({
    name: `${PREFIX}incidents_opened_total`,
    help: 'Incident threads opened.',
    labelNames: ['service', 'environment'] as const,
    registers,
  });

  function observeCommit(rollback: StoredRollback, effects: readonly OutboxEffect[]): void {
    let ctx: RollbackContext | undefined;
    const context = (): RollbackContext => (ctx ??= contextOf(rollback));
    const base = (): { service: string; environment: string; drill: string } => ({
      service: rollback.service,
      environment: rollback.environment,
      drill: String(context().drill),
    });
    if (rollback.version === 1) rollbacksDeclared.inc(base());
    for (const effect of effects) {
      if (effect.kind !== 'notify') continue;
      const event = effect.payload['event'];
      if (typeof event !== 'string') continue;
      const c = context();
      if (event === 'authorized' && c.authorization) {
        approvalWait.observe(
          { environment: rollback.environment, via: c.authorization.via, drill: String(c.drill) },
          seconds(c.authorization.at - c.declaredAt),
        );
      } else if (STEP_OUTCOMES[event] !== undefined) {
        const index = effect.payload['stepIndex'];
        const step = typeof index === 'number' ? c.steps[index] : undefined;
        if (!step) continue;
        const labels = { executor: step.uses, outcome: STEP_OUTCOMES[event], drill: String(c.drill) };
        stepOutcomes.inc(labels);
        if (step.startedAt !== undefined && step.endedAt !== undefined) {
          stepDuration.observe(labels, seconds(step.endedAt - step.startedAt));
        }
      } else if (AFTER_STEP_OUTCOMES[event] !== undefined || event === 'after-steps-cancelled') {
        observeAfterSteps(c, event, effect.payload);
      } else if (ENDINGS.has(event) && c.outcome) {
        const labels = { ...base(), outcome: c.outcome.code };
        rollbacksEnded.inc(labels);
        rollbackDuration.observe(labels, seconds(c.outcome.at - c.declaredAt));
      }
    }
  }

  /** The after-step a notice is about, and those it left unrun (skipped or cancelled with it). */
  function observeAfterSteps(c: RollbackContext, event: string, payload: Record<string, unknown>): void {
    const steps = c.afterSteps ?? [];
    const drill = String(c.drill);
    const count = (index: number, outcome: string): void => {
      const step = steps[index];
      if (step) afterSteps.inc({ executor: step.uses, outcome, drill });
    };
    if (event === 'after-steps-cancelled') {
      // Only pending ones can be superseded (a failure ends them first): every skipped one is its.
      const stopped = payload['interrupted'];
      steps.forEach((step, index) => {
        if (index === stopped || step.status === 'skipped') count(index, 'cancelled');
      });
      return;
    }
    const index = payload['afterIndex'];
    if (typeof index !== 'number') return;
    count(index, AFTER_STEP_OUTCOMES[event]!);
    if (event === 'after-step-succeeded') return;
    steps.forEach((step, later) => {
      if (later > index && step.status === 'skipped') count(later, 'skipped');
    });
  }

  function instrumentHandlers(
    handlers: Readonly<Record<string, EffectHandler>>,
  ): Record<string, EffectHandler> {
    return Object.fromEntries(
      Object.entries(handlers).map(([kind, handler]) => [
        kind,
        async (effect, context) => {
          try {
            await handler(effect, context);
          } catch (error) {
            effectHandlerFailures.inc({ kind });
            throw error;
          }
        },
      ]),
    );
  }

  return {
    registry,
    rollbacksDeclared,
    rollbacksEnded,
    rollbackDuration,
    stepOutcomes,
    stepDuration,
    approvalWait,
    afterSteps,
    effectHandlerFailures,
    alertsReceived,
    incidentsOpened,
    observeCommit,
    commitListener:
      (log) =>
      ({ rollback, effects }) => {
        try {
          observeCommit(rollback, effects);
        } catch (error) {
          log.warn({ err: error, rollbackId: rollback.id }, 'could not record metrics of a commit');
        }
      },
    countAlerts: (source, outcome, alerts) => {
      alertsReceived.inc({ source, outcome }, Math.max(alerts, 1));
    },
    instrumentHandlers,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

const seconds = (ms: number): number => Math.max(0, ms) / 1_000;
