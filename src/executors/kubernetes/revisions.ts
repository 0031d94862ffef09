/**
 * `kubectl rollout undo` for a StatefulSet or a DaemonSet, done natively: their history is the
 * ControllerRevisions they own, each with a `revision` number and `data` holding the pod template
 * (`{spec:{template:{..., $patch: replace}}}`). The target's template goes back with the same JSON
 * Patch as a Deployment's (a replace of spec.template guarded by resourceVersion, not kubectl's
 * strategic merge patch), then the step waits for the controller's own completion checks.
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
  type TemplateImages,
  type WaitState,
} from './step.js';

type Workload = k8s.V1StatefulSet | k8s.V1DaemonSet;

export async function undoFromControllerRevisions(
  ctx: ExecutorContext,
  params: KubernetesParams & { kind: 'StatefulSet' | 'DaemonSet' },
  config: k8s.KubeConfig,
): Promise<StepResult> {
  const { namespace, name, kind } = params;
  const what = `${kind.toLowerCase()} ${namespace}/${name}`;
  const apps = config.makeApiClient(k8s.AppsV1Api);

  return runStep(ctx, params, what, async ({ signal, found, call, waitFor }) => {
    const read = (): Promise<Workload> =>
      call<Workload>('read', () =>
        kind === 'StatefulSet'
          ? apps.readNamespacedStatefulSet({ name, namespace }, callOptions(signal))
          : apps.readNamespacedDaemonSet({ name, namespace }, callOptions(signal)),
      );
    const workload = await read();
    const uid = workload.metadata?.uid;
    const selector = labelSelector(workload.spec?.selector);
    const list = await call('list the ControllerRevisions of', () =>
      apps.listNamespacedControllerRevision(
        { namespace, ...(selector ? { labelSelector: selector } : {}) },
        callOptions(signal),
      ),
    );
    const owned = new Map<number, k8s.V1ControllerRevision>();
    for (const revision of list.items) {
      const mine = revision.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid);
      if (mine) owned.set(revision.revision, revision);
    }
    const revisions = [...owned.keys()].sort((a, b) => a - b);
    // As kubectl: the current revision is the highest one.
    const from = revisions.at(-1);
    if (from === undefined) {
      return { outcome: 'failed', error: `${what} has no ControllerRevisions: it has never rolled out` };
    }
    found.fromRevision = from;
    found.toRevision = params.toRevision ?? revisions.filter((r) => r < from).at(-1);
    if (found.toRevision === undefined) {
      return {
        outcome: 'failed',
        error: `${what} has no revision before ${from} to roll back to; revisions: ${revisionList(revisions)}`,
        output: outputOf(found),
      };
    }
    const template = templateOf(owned.get(found.toRevision));
    if (template === undefined) {
      return {
        outcome: 'failed',
        error: `${what} has no revision ${found.toRevision}; revisions: ${revisionList(revisions)}`,
        output: outputOf(found),
      };
    }
    found.images = imagesOf(template);
    const images = found.images.join(', ');
    if (found.toRevision === from || isDeepStrictEqual(template, workload.spec?.template)) {
      ctx.log.line(`${what} already runs the template of revision ${found.toRevision}: nothing to roll back`);
      return {
        outcome: 'succeeded',
        output: { ...outputOf(found), changed: false },
        summary: `${what} already on revision ${found.toRevision} (${images}): nothing to roll back`,
      };
    }
    ctx.log.line(
      `current revision ${from} → rolling back to revision ${found.toRevision} (${plural(found.images.length, 'image')} ${images})`,
    );
    const body = templatePatch(
      workload.metadata,
      template,
      `rollback-bot: rollback ${ctx.rollback.id} of ${ctx.rollback.service} to revision ${found.toRevision}`,
    );
    const options = callOptions(signal, k8s.PatchStrategy.JsonPatch);
    const patched = await call<Workload>('patch', () =>
      kind === 'StatefulSet'
        ? apps.patchNamespacedStatefulSet({ name, namespace, body }, options)
        : apps.patchNamespacedDaemonSet({ name, namespace, body }, options),
    );
    const generation = patched.metadata?.generation ?? 0;
    ctx.log.line(
      `template of revision ${found.toRevision} applied (generation ${generation}); waiting for the rollout`,
    );
    const end = await waitFor(async () => {
      const current = await read();
      return kind === 'StatefulSet'
        ? statefulSetState(current as k8s.V1StatefulSet, generation)
        : daemonSetState(current as k8s.V1DaemonSet, generation);
    });
    if (end.kind === 'failed') {
      return {
        outcome: 'failed',
        error: `${what} rollback to revision ${found.toRevision} ${end.detail}`,
        output: outputOf(found),
      };
    }
    return {
      outcome: 'succeeded',
      output: { ...outputOf(found), changed: true },
      summary: `${what} rolled back from revision ${from} to revision ${found.toRevision} (${images})`,
    };
  });
}

/** The pod template a ControllerRevision holds, without the strategic-merge `$patch` directive. */
function templateOf(revision: k8s.V1ControllerRevision | undefined): TemplateJson | undefined {
  const data = revision?.data as { spec?: { template?: TemplateJson & { $patch?: string } } } | undefined;
  const template = data?.spec?.template;
  if (typeof template !== 'object') return undefined;
  const { $patch: _directive, ...rest } = template;
  return rest;
}

/** A pod template as JSON (read from a ControllerRevision's data, not built by the client). */
type TemplateJson = TemplateImages & Record<string, unknown>;

function observing(observed: number | undefined, generation: number, current: number | undefined) {
  return (observed ?? 0) < Math.max(generation, current ?? 0);
}

/** `kubectl rollout status` for a StatefulSet (RollingUpdate). */
function statefulSetState(set: k8s.V1StatefulSet, generation: number): WaitState {
  const s = set.status;
  if (observing(s?.observedGeneration, generation, set.metadata?.generation)) {
    return {
      kind: 'waiting',
      line: `rollout: waiting for the controller to observe generation ${generation}`,
    };
  }
  const wanted = set.spec?.replicas ?? 1;
  const updated = s?.updatedReplicas ?? 0;
  const ready = s?.readyReplicas ?? 0;
  const line = `rollout: ${updated}/${wanted} updated, ${ready}/${wanted} ready`;
  const complete =
    s?.updateRevision !== undefined &&
    s.updateRevision === s.currentRevision &&
    updated === wanted &&
    ready === wanted;
  return complete ? { kind: 'done', line: `${line}: rollout complete` } : { kind: 'waiting', line };
}

/** `kubectl rollout status` for a DaemonSet. */
function daemonSetState(set: k8s.V1DaemonSet, generation: number): WaitState {
  const s = set.status;
  if (observing(s?.observedGeneration, generation, set.metadata?.generation)) {
    return {
      kind: 'waiting',
      line: `rollout: waiting for the controller to observe generation ${generation}`,
    };
  }
  const desired = s?.desiredNumberScheduled ?? 0;
  const updated = s?.updatedNumberScheduled ?? 0;
  const available = s?.numberAvailable ?? 0;
  const line = `rollout: ${updated}/${desired} nodes updated, ${available}/${desired} available`;
  return updated === desired && available === desired
    ? { kind: 'done', line: `${line}: rollout complete` }
    : { kind: 'waiting', line };
}
