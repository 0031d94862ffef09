/**
 * The execution side of the bot assembled: the plans' targets resolver, the step performer (with its
 * secrets, step cap and output relayed to the rollback's thread) and the engine runtime whose
 * workers run the steps, checks and watches. `bot.ts` wires it to the services and Slack.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { DEFAULT_STEP_TIMEOUT_MAX_MS } from '../config/env.js';
import type { SecretMask } from '../domain/secret-mask.js';
import { createEngineRuntime, type EngineRuntime } from '../engine/runtime.js';
import { createPlanResolver, stepTargetDecider, type PlanResolver } from '../executors/plan-resolver.js';
import { createStepPerformer } from '../executors/step-performer.js';
import type { RollbackCards } from '../slack/rollback-cards.js';
import { StepOutputRelay } from '../slack/step-output.js';
import type { Store } from '../store/store.js';
import type { BotOptions } from './bot-options.js';

export function createStepRunning(
  options: Pick<BotOptions, 'registry' | 'env' | 'stepTimeoutMaxMs' | 'leaseTtlMs'>,
  deps: {
    store: Store;
    secrets: SecretMask;
    cards: Pick<RollbackCards, 'replyLater'>;
    now: () => number;
    log: Logger;
  },
): { runtime: EngineRuntime; targets: PlanResolver } {
  const { store, secrets, cards, now, log } = deps;
  const targets = createPlanResolver({ registry: options.registry, env: options.env, now });
  const stepOutput = new StepOutputRelay({ cards, log });
  const performer = createStepPerformer({
    registry: options.registry,
    env: options.env,
    secrets,
    log,
    maxStepMs: options.stepTimeoutMaxMs ?? DEFAULT_STEP_TIMEOUT_MAX_MS,
    onLine: stepOutput.onLine,
  });
  const runtime = createEngineRuntime({
    store,
    log,
    now,
    workerId: `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`,
    performCheck: performer.performCheck,
    performWatch: performer.performWatch,
    targetFor: stepTargetDecider(targets),
    performStep: stepOutput.wrap(performer.performStep),
    ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
  });
  return { runtime, targets };
}
