/**
 * The one interface every executor implements (DESIGN section 6). An executor is a kind, a zod
 * schema of its `with` parameters (whose descriptions are the docs and the JSON Schema) and `run`.
 */
import type { z } from 'zod';
import type { TemplateVars } from '../domain/template-vars.js';
import type { ValuePlaces } from './render-params.js';
import type { StepTarget } from '../domain/step-target.js';
import type { StepOutcome } from '../engine/step-runner.js';

export type { StepTarget, TargetState } from '../domain/step-target.js';

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
  /**
   * The bot's environment, injected by the step performer: what a command's `inheritEnv` may hand
   * to its program. Executors read the environment from here, never from `process.env`.
   */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * The target this step resolved and recorded before it first changed anything. Every attempt
   * (Retry, `onFailure: retry`, after a crash, on another replica) drives the object to exactly
   * this target; an executor that resolves never picks a new "previous" one when it is given.
   */
  target?: StepTarget;
}

export interface ResolveContext {
  signal: AbortSignal;
  /**
   * The version asked for (`--to`, or the previous deployment CI recorded); null: the platform's
   * previous one. An executor that can map versions to its revisions restores exactly this one.
   */
  toVersion: string | null;
  rollback: { id: string; service: string; environment: string };
}

export type Resolution =
  | { ok: true; target: StepTarget }
  /** `restorable`: the versions that exist, when the asked one is not among them. */
  | { ok: false; error: string; restorable?: string[] };

/**
 * What an executor's `run` answers: the engine's `StepOutcome` (one vocabulary, succeeded and
 * failed) with a summary and partial output, plus `inconclusive`, which only an executor says.
 */
export type StepResult =
  | (Extract<StepOutcome, { outcome: 'succeeded' }> & { summary: string })
  | (Extract<StepOutcome, { outcome: 'failed' }> & {
      output?: Record<string, unknown>;
      /**
       * The object was changed by someone else since it was resolved (neither the start nor the
       * target): the step stops and asks a human, whatever `onFailure` says, instead of overwriting.
       */
      conflict?: true;
    })
  /** The executor could not tell (a query errored or returned nothing): a human decides. */
  | { outcome: 'inconclusive'; detail: string };

export interface Executor<P> {
  kind: string;
  description: string;
  params: z.ZodType<P>;
  /**
   * Top-level parameters whose `{{ }}` values land in a URL, an argument list or a PromQL string,
   * so each value is encoded for that place (render-params.ts) and can never become syntax there.
   */
  valuePlaces?: ValuePlaces;
  /**
   * Programs `run` starts itself, found on PATH: the image must install them (a test checks the
   * Dockerfile's final stage against this list). A command step's program is the plan's, not here.
   */
  programs?: readonly string[];
  /**
   * The IAM actions the step needs (AWS executors): the one list the docs, the IAM policy of the
   * deploy manifests and the tests read. `sts:AssumeRole` on a step's `roleArn` comes on top.
   */
  iamActions?: readonly string[];
  /** Why this kind cannot be a step (it does not run by itself): `validate` refuses it under `steps`. */
  notAStep?: string;
  /**
   * Read-only: what the step would change now (platform executors). Runs when the rollback is
   * declared, when someone approves, and again just before the step first runs.
   */
  resolve?(ctx: ResolveContext, params: P): Promise<Resolution>;
  /**
   * Secret values of the bot's environment that `run` will hand to something that may print them
   * (a command's `inheritEnv`). The step performer adds them to the mask before the step runs, as
   * it does for the `${env:...}` values the parameters hold.
   */
  secretsHandedOver?(params: P, env: Readonly<Record<string, string | undefined>>): string[];
  /**
   * Loads what `run` needs that is too heavy to load at import (a client library): called once at
   * start-up, before the workers take steps, when a plan uses this kind.
   */
  preload?(): Promise<void>;
  run(ctx: ExecutorContext, params: P): Promise<StepResult>;
}
