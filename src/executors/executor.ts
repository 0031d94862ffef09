/**
 * The one interface every executor implements (DESIGN section 6). An executor is a kind, a zod
 * schema of its `with` parameters (whose descriptions are the docs and the JSON Schema) and `run`.
 * `implemented` stays false while `run` is a stub, so `validate` can say so instead of "valid".
 */
import type { z } from 'zod';
import type { TemplateVars } from '../domain/template-vars.js';
import type { ValuePlaces } from './render-params.js';

/** Lines that stream to the rollback's Slack thread while the step runs. */
export interface StepLogger {
  line(text: string): void;
  warn(text: string): void;
}

export interface ExecutorContext {
  /** Aborted on cancel, abort or timeout: executors must stop promptly and clean up. */
  signal: AbortSignal;
  timeoutMs: number;
  vars: TemplateVars;
  log: StepLogger;
  rollback: { id: string; service: string; environment: string };
}

export type StepResult =
  | { outcome: 'succeeded'; output: Record<string, unknown>; summary: string }
  | { outcome: 'failed'; error: string; output?: Record<string, unknown> }
  /** The executor could not tell (a query errored or returned nothing): a human decides. */
  | { outcome: 'inconclusive'; detail: string };

export interface Executor<P> {
  kind: string;
  description: string;
  params: z.ZodType<P>;
  implemented: boolean;
  /**
   * Top-level parameters whose `{{ }}` values land in a URL, an argument list or a PromQL string,
   * so each value is encoded for that place (render-params.ts) and can never become syntax there.
   */
  valuePlaces?: ValuePlaces;
  /** Why this kind cannot be a step (it does not run by itself): `validate` refuses it under `steps`. */
  notAStep?: string;
  run(ctx: ExecutorContext, params: P): Promise<StepResult>;
}

/** An executor whose parameters are specified but whose `run` has not been written yet. */
export function notImplementedExecutor<P>(
  kind: string,
  description: string,
  params: z.ZodType<P>,
): Executor<P> {
  return {
    kind,
    description,
    params,
    implemented: false,
    run: () => Promise.resolve({ outcome: 'failed', error: `the ${kind} executor is not implemented yet` }),
  };
}
