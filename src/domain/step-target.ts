/**
 * What a platform step changes, as resolved from the live object before anyone approves: what runs
 * now, the exact target, and the pin that lets every later attempt reach that same target. Kept in
 * the rollback's state, shown on the card, and bound into the digest an approval is given for.
 */
import { z } from 'zod';
import type { StrategySpec } from './plan.js';

/** What runs now, or what a step will restore: as the card shows it. */
export interface TargetState {
  /** Revision number, task definition `family:revision`, or flag state. */
  revision?: string;
  /** The version it runs (an image tag), when it can be told. */
  version?: string;
  images: string[];
}

/** What a platform step will change, read from the live object without changing it. */
export interface StepTarget {
  /** The object acted on, as people name it: `deployment checkout/api`. */
  object: string;
  current: TargetState;
  target: TargetState;
  /**
   * What a later attempt needs to reach exactly this target without choosing again, and to tell
   * the start from the target: e.g. `{ from: <pod-template-hash>, to: <pod-template-hash> }`, or
   * task definition ARNs. JSON values only: it is stored in the rollback.
   */
  pin: Record<string, string | number | boolean>;
}

/** One step's part of a resolution: its target, or why it cannot be told now; null: it does not resolve. */
export type StepResolution = { target: StepTarget } | { problem: string } | null;

/** What a rollback's steps will do, read at one moment: an approval is given for this digest. */
export interface PlanResolution {
  at: number;
  /** Digest of the steps as they will run (parameters after templating) and their targets. */
  digest: string;
  /** The version asked for when it was read (`--to`); null: each platform's previous one. */
  asked: string | null;
  steps: StepResolution[];
}

/** The first step that cannot tell its target, as "step 2 (Roll back api): <why>". */
export function resolutionProblem(
  resolution: PlanResolution | null,
  stepNames: readonly string[],
): string | null {
  if (!resolution) return null;
  for (const [index, step] of resolution.steps.entries()) {
    if (step && 'problem' in step) {
      return `step ${index + 1} (${stepNames[index] ?? '?'}): ${step.problem}`;
    }
  }
  return null;
}

const targetState = z.object({
  revision: z.string().optional(),
  version: z.string().optional(),
  images: z.array(z.string()),
});

export const stepTargetSchema = z.object({
  object: z.string(),
  current: targetState,
  target: targetState,
  pin: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

export const planResolutionSchema = z.object({
  at: z.number(),
  digest: z.string().min(1),
  asked: z.string().nullable(),
  steps: z.array(
    z.union([z.object({ target: stepTargetSchema }), z.object({ problem: z.string() }), z.null()]),
  ),
});

/** What a resolution needs to know of the rollback (declared or about to be). */
export interface ResolveSubject {
  id: string;
  service: string;
  environment: string;
  reason: string;
  declaredBy: string;
  incidentStartedAt: number;
  fromVersion: string | null;
  /** The version asked for (`--to`); null: each platform's previous one. */
  toVersion: string | null;
  strategy: StrategySpec;
  steps?: ReadonlyArray<{ output?: Record<string, unknown> | undefined }>;
}

export interface ResolvedPlan {
  resolution: PlanResolution;
  /** The asked version exists on no platform step: the declaration is refused with this sentence. */
  unknownVersion?: string;
  /** What runs now and what will run, from the first step that could tell. */
  versions: { current?: string; target?: string };
}

/** The port through which the application reads targets (executors/plan-resolver.ts implements it). */
export interface TargetResolver {
  /** True when some step of the strategy reads its target from a platform. */
  resolves(strategy: StrategySpec): boolean;
  resolve(subject: ResolveSubject, signal?: AbortSignal): Promise<ResolvedPlan>;
}

/** A state with neither images nor version (a feature flag's `on`, `off` or `unknown`): shown as it is. */
function plainState(state: TargetState): string | undefined {
  return state.images.length === 0 && state.version === undefined ? state.revision : undefined;
}

function stateText(state: TargetState): string {
  const plain = plainState(state);
  if (plain !== undefined) return plain;
  const revision = state.revision === undefined ? '' : `revision ${state.revision} `;
  const images = state.images.length > 0 ? state.images.join(', ') : (state.version ?? 'unknown');
  return `${revision}(${images})`.trim();
}

/**
 * `deployment checkout/api: revision 7 (app:v1.5.0) → revision 6 (app:v1.4.1)`, or
 * `unleash flag new-checkout (production): on → off`, as the card says it.
 */
export function targetLine(target: StepTarget): string {
  const same = JSON.stringify(target.current) === JSON.stringify(target.target);
  const plain = plainState(target.target);
  if (same && plain !== undefined) return `${target.object}: already ${plain}; the step changes nothing`;
  return same
    ? `${target.object}: already runs ${stateText(target.target)}; the step only waits for it`
    : `${target.object}: ${stateText(target.current)} → ${stateText(target.target)}`;
}

/**
 * The version a rollback restored: from the targets its platform steps recorded and reached, else
 * the version it was declared for (plans without platform steps).
 */
export function restoredVersion(rollback: {
  toVersion: string;
  steps: ReadonlyArray<{ status: string; target?: StepTarget | undefined }>;
}): string {
  for (const step of rollback.steps) {
    const version = step.target?.target.version;
    if (version !== undefined && step.status === 'succeeded') return version;
  }
  return rollback.toVersion;
}
