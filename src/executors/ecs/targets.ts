/**
 * Which task definition a step restores, read without changing anything: the one named in the
 * plan, else the newest ACTIVE revision below the current one that runs the asked version, else
 * the previous ACTIVE revision. `resolve` shows it before anyone approves; `run` is then pinned to it.
 */
import { didYouMean } from '../../schema/did-you-mean.js';
import type { Resolution } from '../executor.js';
import {
  EcsError,
  familyRevision,
  parseFamilyRevision,
  taskDefinitionState,
  type EcsApi,
  type KnownTaskDefinition,
} from './api.js';
import type { EcsParams } from './params.js';

/** How many ACTIVE revisions below the current one are read to find a version. */
export const VERSION_SEARCH_DEPTH = 25;

/** The previous ACTIVE revision of the family of `current` (its ARN), or an EcsError. */
export async function previousRevision(api: EcsApi, current: string): Promise<string> {
  const parsed = parseFamilyRevision(current);
  if (!parsed) throw new EcsError(`cannot read family:revision from ${current}`);
  const [previous] = await api.activeRevisionsBelow(parsed.family, parsed.revision, 1);
  if (previous === undefined) {
    throw new EcsError(
      `no ACTIVE revision of ${parsed.family} before ${parsed.family}:${parsed.revision} to go back to`,
    );
  }
  return previous;
}

type Found =
  { ok: true; definition: KnownTaskDefinition } | { ok: false; error: string; restorable: string[] };

/**
 * The newest ACTIVE revision below `current` whose version is `version`, or the versions that
 * can be restored instead (newest first, each once, with the revision that runs it).
 */
async function revisionRunning(
  api: EcsApi,
  current: string,
  version: string,
  container: string | undefined,
  object: string,
): Promise<Found> {
  const parsed = parseFamilyRevision(current);
  if (!parsed) throw new EcsError(`cannot read family:revision from ${current}`);
  const arns = await api.activeRevisionsBelow(parsed.family, parsed.revision, VERSION_SEARCH_DEPTH);
  const seen = new Map<string, string>();
  for (const arn of arns) {
    const definition = await api.describeTaskDefinition(arn);
    const state = taskDefinitionState(definition, container);
    if (state.version === version) return { ok: true, definition };
    if (state.version !== undefined && !seen.has(state.version)) {
      seen.set(state.version, state.revision ?? familyRevision(arn));
    }
  }
  const restorable = [...seen.keys()];
  const searched =
    arns.length === VERSION_SEARCH_DEPTH
      ? ` (searched the ${VERSION_SEARCH_DEPTH} newest ACTIVE revisions below ${familyRevision(current)})`
      : '';
  const choices =
    restorable.length === 0
      ? `no ACTIVE revision below ${familyRevision(current)} runs a tagged image it could restore`
      : `it can restore ${[...seen].map(([v, revision]) => `${v} (${revision})`).join(', ')}`;
  return {
    ok: false,
    error: `${object} has no task definition running ${version}; ${choices}${searched}${didYouMean(version, restorable)}`,
    restorable,
  };
}

/**
 * The step's exact target. `toVersion` null: the previous ACTIVE revision; a version the service
 * already runs: the current revision (the step then only waits for its deployment).
 */
export async function resolveTarget(
  api: EcsApi,
  params: EcsParams,
  toVersion: string | null,
  object: string,
): Promise<Resolution> {
  const service = await api.describeService();
  const currentArn = service.taskDefinition;
  if (currentArn === undefined) return { ok: false, error: `${object} has no task definition` };
  const current = await api.describeTaskDefinition(currentArn);
  const currentState = taskDefinitionState(current, params.container);

  let target: KnownTaskDefinition;
  if (params.taskDefinition !== undefined) {
    target = await api.describeTaskDefinition(params.taskDefinition);
    if (target.status === 'INACTIVE') {
      return {
        ok: false,
        error: `task definition ${familyRevision(target.taskDefinitionArn)} is INACTIVE (deregistered): ECS cannot deploy it`,
      };
    }
  } else if (toVersion === null) {
    target = await api.describeTaskDefinition(await previousRevision(api, currentArn));
  } else if (currentState.version === toVersion) {
    target = current;
  } else {
    const found = await revisionRunning(api, currentArn, toVersion, params.container, object);
    if (!found.ok) return found;
    target = found.definition;
  }
  return {
    ok: true,
    target: {
      object,
      current: currentState,
      target: taskDefinitionState(target, params.container),
      pin: { from: current.taskDefinitionArn, to: target.taskDefinitionArn },
    },
  };
}
