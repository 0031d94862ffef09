/**
 * Reads what a rollback's platform steps would change, without changing anything: each step whose
 * executor can `resolve` is asked for what runs now and the exact target it would restore. The
 * result is bound into one digest (the steps as they will run, parameters after templating, and the
 * targets), which an approval names: a click on a card whose digest is no longer the live one is
 * refused, and every attempt of a step converges on the target recorded when it first started.
 */
import { createHash } from 'node:crypto';
import { restore, type PersistedRollback } from '../domain/rollback-machine.js';
import {
  targetLine,
  type ResolveSubject,
  type StepResolution,
  type StepTarget,
  type TargetResolver,
} from '../domain/step-target.js';
import type { TargetDecision } from '../engine/step-runner.js';
import { templateVarsFor, type TemplateVars } from '../domain/template-vars.js';
import type { ExecutorRegistry } from './registry.js';
import { prepareParams, previewParams } from './render-params.js';

export interface PlanResolverOptions {
  registry: ExecutorRegistry;
  env: Readonly<Record<string, string | undefined>>;
  now: () => number;
  /** A resolve that takes longer is a problem to show, not a hang (default 10 s). */
  timeoutMs?: number;
}

export interface PlanResolver extends TargetResolver {
  /** One step, read now (before its first attempt). */
  resolveStep(subject: ResolveSubject, index: number, signal?: AbortSignal): Promise<StepResolution>;
}

function varsOf(subject: ResolveSubject): TemplateVars {
  return templateVarsFor({
    ...subject,
    // A `{{ toVersion }}` in a platform step before the platform said which: rendered empty.
    toVersion: subject.toVersion ?? '',
    steps: subject.steps ?? [],
  });
}

/** The digest an approval is given for: same steps, same parameters, same targets. */
export function resolutionDigest(subject: ResolveSubject, steps: readonly StepResolution[]): string {
  const vars = varsOf(subject);
  const shown = {
    strategy: subject.strategy.name,
    toVersion: subject.toVersion,
    steps: subject.strategy.steps.map((step, index) => ({
      uses: step.uses,
      with: previewParams(step.with, vars),
      resolved: steps[index] ?? null,
    })),
  };
  return createHash('sha256').update(JSON.stringify(shown)).digest('hex').slice(0, 16);
}

export function createPlanResolver(options: PlanResolverOptions): PlanResolver {
  const timeoutMs = options.timeoutMs ?? 10_000;

  /** One step's resolution, and the versions it could restore when the asked one is not there. */
  const readStep = async (
    subject: ResolveSubject,
    index: number,
    signal: AbortSignal | undefined,
  ): Promise<{ step: StepResolution; restorable?: string[] }> => {
    const spec = subject.strategy.steps[index];
    const executor = spec ? options.registry.get(spec.uses) : undefined;
    if (!spec || !executor?.resolve) return { step: null };
    const prepared = prepareParams(
      executor.params,
      spec.with,
      varsOf(subject),
      { env: options.env },
      executor.valuePlaces,
    );
    if (!prepared.ok) return { step: { problem: prepared.error } };
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const result = await executor.resolve(
        {
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
          toVersion: subject.toVersion,
          rollback: { id: subject.id, service: subject.service, environment: subject.environment },
        },
        prepared.params,
      );
      if (result.ok) return { step: { target: result.target } };
      return {
        step: { problem: result.error },
        ...(result.restorable === undefined ? {} : { restorable: result.restorable }),
      };
    } catch (error) {
      return {
        step: {
          problem: deadline.aborted
            ? `the ${spec.uses} target could not be read within ${timeoutMs / 1_000}s`
            : `the ${spec.uses} target could not be read: ${error instanceof Error ? error.message : String(error)}`,
        },
      };
    }
  };

  return {
    resolves: (strategy) =>
      strategy.steps.some((step) => options.registry.get(step.uses)?.resolve !== undefined),
    resolveStep: async (subject, index, signal) => (await readStep(subject, index, signal)).step,
    async resolve(subject, signal) {
      const steps: StepResolution[] = [];
      let unknownVersion: string | undefined;
      for (const index of subject.strategy.steps.keys()) {
        const { step, restorable } = await readStep(subject, index, signal);
        steps.push(step);
        // A step that lists what it can restore says the asked version is not among them.
        if (restorable !== undefined && step !== null && 'problem' in step) unknownVersion ??= step.problem;
      }
      const first = steps.find((step): step is { target: StepTarget } => step !== null && 'target' in step);
      return {
        resolution: {
          at: options.now(),
          digest: resolutionDigest(subject, steps),
          asked: subject.toVersion,
          steps,
        },
        ...(unknownVersion === undefined ? {} : { unknownVersion }),
        versions: {
          ...(first?.target.current.version === undefined ? {} : { current: first.target.current.version }),
          ...(first?.target.target.version === undefined ? {} : { target: first.target.target.version }),
        },
      };
    },
  };
}

const sameTarget = (a: StepTarget, b: StepTarget): boolean =>
  JSON.stringify([a.current, a.target, a.pin]) === JSON.stringify([b.current, b.target, b.pin]);

/**
 * What an attempt of step `index` must reach: the target an earlier attempt recorded (never a new
 * choice), or, on the first attempt, the target read now, which must be the one approved.
 */
export function stepTargetDecider(
  resolver: Pick<PlanResolver, 'resolveStep'>,
): (rollbackId: string, index: number, snapshot: unknown) => Promise<TargetDecision> {
  return async (_rollbackId, index, snapshot) => {
    const context = restore(snapshot as PersistedRollback).context;
    const recorded = context.steps[index]?.target;
    if (recorded !== undefined) return { target: recorded };
    const fresh = await resolver.resolveStep(
      { ...context, toVersion: context.resolution?.asked ?? null },
      index,
    );
    if (fresh === null) return {};
    if ('problem' in fresh) {
      return { error: `the step's target cannot be read now: ${fresh.problem}; nothing was changed` };
    }
    const approved = context.resolution?.steps[index];
    if (approved && 'target' in approved && !sameTarget(approved.target, fresh.target)) {
      return {
        error: `${fresh.target.object} changed since the rollback was approved: approved ${targetLine(approved.target)}; now ${targetLine(fresh.target)}. Nothing was changed: look, then Retry (it restores what is read then) or Abort.`,
      };
    }
    return { target: fresh.target };
  };
}
