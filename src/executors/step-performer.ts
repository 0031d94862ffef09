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
import type { SecretMask } from '../domain/secret-mask.js';
import { prepareParams } from './render-params.js';

export interface StepPerformerOptions {
  registry: ExecutorRegistry;
  env: Readonly<Record<string, string | undefined>>;
  /**
   * The process's secrets: a step's results pass through it before they reach the store (its output
   * and summary are kept in the snapshot and the audit, and shown on the card and in the API).
   */
  secrets: SecretMask;
  log: Logger;
  /**
   * Upper bound for any step, check or watch (STEP_TIMEOUT_MAX): each executor's own `timeout` is
   * cut to it, and `validate` refuses a plan whose `timeout` is longer, so nothing is cut silently.
   */
  maxStepMs: number;
  /**
   * Receives the lines a step prints (the Slack thread subscribes here). Checks and watches say
   * what they found in their result's detail; their lines are not relayed.
   */
  onLine?: (work: StepWork, line: string) => void;
}

export function createStepPerformer(options: StepPerformerOptions): {
  performStep: (work: StepWork, signal: AbortSignal) => Promise<StepOutcome>;
  performCheck: (work: StepWork, signal: AbortSignal) => Promise<CheckOutcome>;
  /** A `watch` of the strategy, sampled while the steps run: judged as a check is. */
  performWatch: (work: StepWork, signal: AbortSignal) => Promise<CheckOutcome>;
} {
  const { maxStepMs } = options;

  async function perform(
    work: StepWork,
    which: 'steps' | 'validate' | 'watch' | 'after',
    signal: AbortSignal,
  ): Promise<StepResult> {
    const context = restore(work.snapshot as PersistedRollback).context;
    const specs =
      which === 'after'
        ? (context.strategy.after ?? [])
        : which === 'watch'
          ? (context.strategy.watch?.checks ?? [])
          : context.strategy[which];
    const spec = specs[work.index];
    if (!spec) return { outcome: 'failed', error: `the plan has no ${which} item ${work.index}` };
    const executor = options.registry.get(spec.uses);
    if (!executor) return { outcome: 'failed', error: `no executor "${spec.uses}"` };
    const prepared = prepareParams(
      executor.params,
      spec.with,
      templateVarsFor(context),
      { env: options.env },
      executor.valuePlaces,
    );
    if (!prepared.ok) return { outcome: 'failed', error: prepared.error };
    // Before the run: a line the program prints must already find these values in the mask.
    options.secrets.add(prepared.secrets);
    options.secrets.add(executor.secretsHandedOver?.(prepared.params, options.env) ?? []);
    const mask = (text: string): string => options.secrets.text(text);
    const log: StepLogger = {
      line: (text) => {
        if (which === 'steps' || which === 'after') options.onLine?.(work, mask(text));
      },
      warn: (text) => {
        if (which === 'steps' || which === 'after') options.onLine?.(work, `⚠️ ${mask(text)}`);
      },
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
          env: options.env,
          ...(work.target === undefined ? {} : { target: work.target }),
        },
        prepared.params,
      );
      return options.secrets.value(result);
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
      const result = await perform(work, work.phase ?? 'steps', signal);
      switch (result.outcome) {
        case 'succeeded':
          return { outcome: 'succeeded', output: result.output };
        case 'failed':
          return result.conflict === true
            ? { outcome: 'failed', error: result.error, conflict: true }
            : { outcome: 'failed', error: result.error };
        case 'inconclusive':
          return { outcome: 'failed', error: `inconclusive: ${result.detail}` };
      }
    },
    async performCheck(work, signal) {
      return checkOutcome(await perform(work, 'validate', signal));
    },
    async performWatch(work, signal) {
      return checkOutcome(await perform(work, 'watch', signal));
    },
  };
}

function checkOutcome(result: StepResult): CheckOutcome {
  switch (result.outcome) {
    case 'succeeded':
      return { outcome: 'passed', detail: result.summary };
    case 'failed':
      return { outcome: 'failed', detail: result.error };
    case 'inconclusive':
      return { outcome: 'inconclusive', detail: result.detail };
  }
}
