/**
 * Argo Rollouts, done natively like `kubectl argo rollouts abort` and `undo`: abort sets
 * `status.abort` with a merge patch on the status subresource (the controller sends traffic back to
 * the stable ReplicaSet); undo copies the pod template of the target revision's ReplicaSet back into
 * `spec.template` with a JSON Patch guarded by resourceVersion, then waits for phase Healthy.
 */
import * as k8s from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { ExecutorContext, StepResult } from '../executor.js';
import { callOptions } from './client.js';
import type { KubernetesParams } from './params.js';
import {
  imagesOf,
  labelSelector,
  outputOf,
  plural,
  revisionList,
  runStep,
  templatePatch,
  withoutLabel,
  type WaitState,
} from './step.js';

export const ROLLOUT_REVISION = 'rollout.argoproj.io/revision';
const HASH_LABEL = 'rollouts-pod-template-hash';

/** The fields of an argoproj.io/v1alpha1 Rollout this executor reads. */
interface Rollout {
  metadata?: k8s.V1ObjectMeta;
  spec?: {
    replicas?: number;
    selector?: k8s.V1LabelSelector;
    template?: k8s.V1PodTemplateSpec;
    workloadRef?: unknown;
  };
  status?: {
    phase?: string;
    message?: string;
    abort?: boolean;
    /** A string in Argo Rollouts: the generation number the controller has seen. */
    observedGeneration?: string | number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
  };
}

export async function rollbackRollout(
  ctx: ExecutorContext,
  params: KubernetesParams,
  config: k8s.KubeConfig,
): Promise<StepResult> {
  const { namespace, name } = params;
  const what = `rollout ${namespace}/${name}`;
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const ref = { group: 'argoproj.io', version: 'v1alpha1', namespace, plural: 'rollouts', name };

  return runStep(ctx, params, what, async ({ signal, found, call, waitFor }) => {
    const read = async () =>
      (await call('read', () => custom.getNamespacedCustomObject(ref, callOptions(signal)))) as Rollout;
    let rollout = await read();
    found.fromRevision = revisionOf(rollout.metadata);
    if (found.fromRevision === undefined) {
      return {
        outcome: 'failed',
        error: `${what} has no ${ROLLOUT_REVISION} annotation: it has never rolled out`,
      };
    }
    const phase = rollout.status?.phase ?? 'unknown';
    let aborted = false;
    if (params.action === 'abort' || phase !== 'Healthy') {
      if (rollout.status?.abort) {
        ctx.log.line(`the update to revision ${found.fromRevision} is already aborted (phase ${phase})`);
      } else {
        ctx.log.line(`aborting the update to revision ${found.fromRevision} (phase ${phase})`);
        rollout = (await call('abort', () =>
          custom.patchNamespacedCustomObjectStatus(
            { ...ref, body: { status: { abort: true } } },
            callOptions(signal, k8s.PatchStrategy.MergePatch),
          ),
        )) as Rollout;
        aborted = true;
      }
    }
    if (params.action === 'abort') {
      const end = await waitFor(async () => abortState(await read()));
      if (end.kind === 'failed') {
        return { outcome: 'failed', error: `${what} abort ${end.detail}`, output: outputOf(found) };
      }
      return {
        outcome: 'succeeded',
        output: { fromRevision: found.fromRevision, aborted, changed: aborted },
        summary: `${what}: update to revision ${found.fromRevision} aborted, traffic back on the stable ReplicaSet`,
      };
    }

    if (rollout.spec?.workloadRef !== undefined && rollout.spec.template === undefined) {
      return {
        outcome: 'failed',
        error: `${what} uses a workloadRef: roll back the workload it references instead`,
      };
    }
    const uid = rollout.metadata?.uid;
    const selector = labelSelector(rollout.spec?.selector);
    const list = await call('list the ReplicaSets of', () =>
      apps.listNamespacedReplicaSet(
        { namespace, ...(selector ? { labelSelector: selector } : {}) },
        callOptions(signal),
      ),
    );
    const owned = new Map<number, k8s.V1ReplicaSet>();
    for (const rs of list.items) {
      const revision = revisionOf(rs.metadata);
      const mine = rs.metadata?.ownerReferences?.some(
        (o) => o.controller && o.kind === 'Rollout' && o.uid === uid,
      );
      if (mine && revision !== undefined) owned.set(revision, rs);
    }
    const revisions = [...owned.keys()].sort((a, b) => a - b);
    const from = found.fromRevision;
    found.toRevision = params.toRevision ?? revisions.filter((r) => r < from).at(-1);
    if (found.toRevision === undefined) {
      return {
        outcome: 'failed',
        error: `${what} has no revision before ${from} to roll back to; revisions: ${revisionList(revisions)}`,
        output: outputOf(found),
      };
    }
    const target = owned.get(found.toRevision);
    if (!target?.spec?.template) {
      return {
        outcome: 'failed',
        error: `${what} has no revision ${found.toRevision}; revisions: ${revisionList(revisions)}`,
        output: outputOf(found),
      };
    }
    const template = withoutLabel(target.spec.template, HASH_LABEL);
    found.images = imagesOf(template);
    const images = found.images.join(', ');
    if (found.toRevision === from || isDeepStrictEqual(template, rollout.spec?.template)) {
      ctx.log.line(`${what} already runs the template of revision ${found.toRevision}: nothing to roll back`);
      return {
        outcome: 'succeeded',
        output: { ...outputOf(found), aborted, changed: aborted },
        summary: `${what} already on revision ${found.toRevision} (${images})${aborted ? ': update aborted' : ': nothing to roll back'}`,
      };
    }
    ctx.log.line(
      `current revision ${from} → rolling back to revision ${found.toRevision} (${plural(found.images.length, 'image')} ${images})`,
    );
    const cause = `rollback-bot: rollback ${ctx.rollback.id} of ${ctx.rollback.service} to revision ${found.toRevision}`;
    const patched = (await call('patch', () =>
      custom.patchNamespacedCustomObject(
        { ...ref, body: templatePatch(rollout.metadata, template, cause) },
        callOptions(signal, k8s.PatchStrategy.JsonPatch),
      ),
    )) as Rollout;
    const generation = patched.metadata?.generation ?? 0;
    ctx.log.line(
      `template of revision ${found.toRevision} applied (generation ${generation}); waiting for the rollout`,
    );
    let current: Rollout = patched;
    const end = await waitFor(async () => {
      current = await read();
      return undoState(current, generation);
    });
    if (end.kind === 'failed') {
      return {
        outcome: 'failed',
        error: `${what} rollback to revision ${found.toRevision} ${end.detail}`,
        output: outputOf(found),
      };
    }
    const revision = revisionOf(current.metadata);
    return {
      outcome: 'succeeded',
      output: { ...outputOf(found), ...(revision === undefined ? {} : { revision }), aborted, changed: true },
      summary: `${what} rolled back from revision ${from} to revision ${found.toRevision} (${images})`,
    };
  });
}

function revisionOf(metadata: k8s.V1ObjectMeta | undefined): number | undefined {
  const text = metadata?.annotations?.[ROLLOUT_REVISION];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function counts(rollout: Rollout): string {
  const wanted = rollout.spec?.replicas ?? 1;
  const s = rollout.status;
  return `${s?.updatedReplicas ?? 0}/${wanted} updated, ${s?.availableReplicas ?? 0}/${wanted} available`;
}

function phaseOf(rollout: Rollout): string {
  const { phase = 'unknown', message } = rollout.status ?? {};
  return message ? `${phase} (${message})` : phase;
}

/** Undo: the controller has seen the new generation, then Healthy is done and Degraded has failed. */
function undoState(rollout: Rollout, generation: number): WaitState {
  if (String(rollout.status?.observedGeneration ?? '') !== String(generation)) {
    return {
      kind: 'waiting',
      line: `rollout: waiting for the controller to observe generation ${generation}`,
    };
  }
  const phase = rollout.status?.phase;
  const line = `rollout: phase ${phaseOf(rollout)}, ${counts(rollout)}`;
  if (phase === 'Healthy') return { kind: 'done', line };
  if (phase === 'Degraded') {
    return { kind: 'failed', line, detail: `is Degraded: ${rollout.status?.message ?? 'no message'}` };
  }
  return { kind: 'waiting', line };
}

/** Abort: the controller reports RolloutAborted (phase Degraded) and the stable pods are all available. */
function abortState(rollout: Rollout): WaitState {
  const wanted = rollout.spec?.replicas ?? 1;
  const available = rollout.status?.availableReplicas ?? 0;
  const line = `abort: phase ${phaseOf(rollout)}, ${available}/${wanted} available`;
  const message = rollout.status?.message ?? '';
  if (rollout.status?.phase === 'Degraded' && message.startsWith('RolloutAborted')) {
    return available >= wanted ? { kind: 'done', line } : { kind: 'waiting', line };
  }
  if (rollout.status?.phase === 'Degraded') {
    return { kind: 'failed', line, detail: `failed: the rollout is Degraded: ${message || 'no message'}` };
  }
  return { kind: 'waiting', line };
}
