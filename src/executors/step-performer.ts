/**
 * Runs one step or validation check of a stored rollback through its executor: finds the spec in
 * the rollback's snapshot (the plan as it was when declared), renders its parameters, checks them
 * with the executor's schema, and runs it under the step's time limit and the caller's signal.
 */
import type { Logger } from 'pino';
import { restore, type PersistedRollback } from '../domain/rollback-machine.js';
import { templateVarsFor } from '../domain/template-vars.js';
import type { CheckOutcome, StepOutcome, StepWork } from '../engine/step-runner.js';
import type { StepLogger, StepResult } from './executor.js';
import type { ExecutorRegistry } from './registry.js';
import { maskSecrets, prepareParams } from './render-params.js';

export interface StepPerformerOptions {
  registry: ExecutorRegistry;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Upper bound for any step; each executor's own `timeout` parameter is usually lower. */
  maxStepMs?: number;
  /** Receives the lines a step prints (the Slack thread subscribes here). */
  onLine?: (work: StepWork, line: string) => void;
}

export function createStepPerformer(options: StepPerformerOptions): {
  performStep: (work: StepWork, signal: AbortSignal) => Promise<StepOutcome>;
  performCheck: (work: StepWork, signal: AbortSignal) => Promise<CheckOutcome>;
} {
  const maxStepMs = options.maxStepMs ?? 30 * 60_000;

  async function perform(
    work: StepWork,
    which: 'steps' | 'validate',
    signal: AbortSignal,
  ): Promise<StepResult> {
    const context = restore(work.snapshot as PersistedRollback).context;
    const spec =
      which === 'steps' ? context.strategy.steps[work.index] : context.strategy.validate[work.index];
    if (!spec) return { outcome: 'failed', error: `the plan has no ${which} item ${work.index}` };
    const executor = options.registry.get(spec.uses);
    if (!executor) return { outcome: 'failed', error: `no executor "${spec.uses}"` };
    const prepared = prepareParams(executor.params, spec.with, templateVarsFor(context), options.env);
    if (!prepared.ok) return { outcome: 'failed', error: prepared.error };
    const mask = (text: string): string => maskSecrets(text, prepared.secrets);
    const log: StepLogger = {
      line: (text) => options.onLine?.(work, mask(text)),
      warn: (text) => options.onLine?.(work, `⚠️ ${mask(text)}`),
    };
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(maxStepMs)]);
    try {
      const result = await executor.run(
        {
          signal: deadline,
          timeoutMs: maxStepMs,
          vars: templateVarsFor(context),
          log,
          rollback: { id: context.id, service: context.service, environment: context.environment },
        },
        prepared.params,
      );
      return result.outcome === 'failed' ? { ...result, error: mask(result.error) } : result;
    } catch (error) {
      options.log.error({ err: error, rollbackId: work.rollbackId, uses: spec.uses }, 'executor threw');
      return {
        outcome: 'failed',
        error: mask(`the ${spec.uses} executor failed unexpectedly: ${String(error)}`),
      };
    }
  }

  return {
    async performStep(work, signal) {
      const result = await perform(work, 'steps', signal);
      switch (result.outcome) {
        case 'succeeded':
          return { outcome: 'succeeded', output: result.output };
        case 'failed':
          return { outcome: 'failed', error: result.error };
        case 'inconclusive':
          return { outcome: 'failed', error: `inconclusive: ${result.detail}` };
      }
    },
    async performCheck(work, signal) {
      const result = await perform(work, 'validate', signal);
      switch (result.outcome) {
        case 'succeeded':
          return { outcome: 'passed', detail: result.summary };
        case 'failed':
          return { outcome: 'failed', detail: result.error };
        case 'inconclusive':
          return { outcome: 'inconclusive', detail: result.detail };
      }
    },
  };
}
