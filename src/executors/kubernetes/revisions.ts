/**
 * `kubectl rollout undo` for a StatefulSet or a DaemonSet, done natively: their history is the
 * ControllerRevisions they own, each with a `revision` number and `data` holding the pod template
 * (`{spec:{template:{..., $patch: replace}}}`). The target's template goes back with the same JSON
 * Patch as a Deployment's (a replace of spec.template guarded by resourceVersion, not kubectl's
 * strategic merge patch), then the step waits for the controller's own completion checks.
 */
import * as k8s from '@kubernetes/client-node';
import type { ExecutorContext, Resolution, ResolveContext, StepResult } from '../executor.js';
import { callOptions } from './client.js';
import type { KubernetesParams } from './params.js';
import {
  imagesOf,
  labelSelector,
  outputOf,
  plural,
  resolveStep,
  runStep,
  templatePatch,
  type ApiCall,
  type TemplateImages,
  type WaitState,
} from './step.js';
import { decideRestore } from './restore-decision.js';
import { chooseTarget, readPin, resolution, type History, type Pin, type Revision } from './target.js';

type Workload = k8s.V1StatefulSet | k8s.V1DaemonSet;
type WorkloadParams = KubernetesParams & { kind: 'StatefulSet' | 'DaemonSet' };

interface Loaded {
  workload: Workload;
  history: History;
}

/** Reads the object and the ControllerRevisions it owns, as `run` and `resolve` both need them. */
async function load(
  params: WorkloadParams,
  apps: k8s.AppsV1Api,
  call: ApiCall,
  signal: AbortSignal,
): Promise<Loaded | string> {
  const { namespace, name, kind } = params;
  const what = `${kind.toLowerCase()} ${namespace}/${name}`;
  const workload = await readWorkload(params, apps, call, signal);
  const uid = workload.metadata?.uid;
  const selector = labelSelector(workload.spec?.selector);
  const list = await call('list the ControllerRevisions of', () =>
    apps.listNamespacedControllerRevision(
      { namespace, ...(selector ? { labelSelector: selector } : {}) },
      callOptions(signal),
    ),
  );
  const owned = new Map<number, Revision>();
  for (const revision of list.items) {
    const mine = revision.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid);
    const template = templateOf(revision);
    if (!mine || template === undefined) continue;
    const key = revision.metadata?.name ?? String(revision.revision);
    owned.set(revision.revision, { number: revision.revision, key, template });
  }
  const revisions = [...owned.values()].sort((a, b) => a.number - b.number);
  // As kubectl: the current revision is the highest one.
  const currentNumber = revisions.at(-1)?.number;
  if (currentNumber === undefined) return `${what} has no ControllerRevisions: it has never rolled out`;
  return {
    workload,
    history: {
      what,
      noun: 'ControllerRevision',
      revisions,
      currentNumber,
      live: workload.spec?.template,
      container: params.container,
    },
  };
}

function readWorkload(
  { kind, name, namespace }: WorkloadParams,
  apps: k8s.AppsV1Api,
  call: ApiCall,
  signal: AbortSignal,
): Promise<Workload> {
  return call<Workload>('read', () =>
    kind === 'StatefulSet'
      ? apps.readNamespacedStatefulSet({ name, namespace }, callOptions(signal))
      : apps.readNamespacedDaemonSet({ name, namespace }, callOptions(signal)),
  );
}

/** What a rollback of the StatefulSet or DaemonSet would restore now, read without changing anything. */
export function resolveFromControllerRevisions(
  ctx: ResolveContext,
  params: WorkloadParams,
  config: k8s.KubeConfig,
): Promise<Resolution> {
  const what = `${params.kind.toLowerCase()} ${params.namespace}/${params.name}`;
  const apps = config.makeApiClient(k8s.AppsV1Api);
  return resolveStep(ctx, params, what, async (call, signal) => {
    const loaded = await load(params, apps, call, signal);
    if (typeof loaded === 'string') return { ok: false, error: loaded };
    const chosen = chooseTarget(loaded.history, { toRevision: params.toRevision, toVersion: ctx.toVersion });
    if (!chosen.ok) return chosen;
    return resolution(loaded.history, chosen, 'name');
  });
}

export async function undoFromControllerRevisions(
  ctx: ExecutorContext,
  params: WorkloadParams,
  config: k8s.KubeConfig,
): Promise<StepResult> {
  const { namespace, name, kind } = params;
  const what = `${kind.toLowerCase()} ${namespace}/${name}`;
  const apps = config.makeApiClient(k8s.AppsV1Api);

  return runStep(ctx, params, what, async ({ signal, found, call, waitFor }) => {
    const loaded = await load(params, apps, call, signal);
    if (typeof loaded === 'string') return { outcome: 'failed', error: loaded };
    const { workload, history } = loaded;
    const from = history.currentNumber;
    found.fromRevision = from;
    const waitRollout = (generation: number) =>
      waitFor(async () => {
        const current = await readWorkload(params, apps, call, signal);
        return kind === 'StatefulSet'
          ? statefulSetState(current as k8s.V1StatefulSet, generation)
          : daemonSetState(current as k8s.V1DaemonSet, generation);
      });

    let pin: Pin | undefined;
    if (ctx.target !== undefined) {
      const pinned = readPin(what, 'name', ctx.target.pin);
      if (!pinned.ok) return { outcome: 'failed', conflict: true, error: pinned.error };
      pin = pinned.pin;
    }
    const decision = decideRestore(history, { pin, toRevision: params.toRevision });
    if (decision.kind === 'conflict') {
      return { outcome: 'failed', conflict: true, error: decision.error, output: outputOf(found) };
    }
    if (decision.kind === 'refused') {
      found.toRevision = params.toRevision;
      return { outcome: 'failed', error: decision.error, output: outputOf(found) };
    }
    const target = decision.target;
    found.toRevision = target.number;
    found.images = imagesOf(target.template);
    if (decision.kind === 'converged') {
      const images = found.images.join(', ');
      ctx.log.line(
        `${what} already runs the target template (revision ${target.number}, ${images}): waiting for its rollout`,
      );
      const end = await waitRollout(workload.metadata?.generation ?? 0);
      if (end.kind === 'failed') {
        return {
          outcome: 'failed',
          error: `${what} rollback to revision ${target.number} ${end.detail}`,
          output: outputOf(found),
        };
      }
      return {
        outcome: 'succeeded',
        output: { ...outputOf(found), changed: false },
        summary: `${what} is on the target revision ${target.number} (${images}): rollout complete`,
      };
    }
    if (decision.kind === 'unchanged') {
      ctx.log.line(`${what} already runs the template of revision ${target.number}: nothing to roll back`);
      return {
        outcome: 'succeeded',
        output: { ...outputOf(found), changed: false },
        summary: `${what} already on revision ${target.number} (${found.images.join(', ')}): nothing to roll back`,
      };
    }
    const to = target.number;
    const images = found.images.join(', ');
    ctx.log.line(
      `current revision ${from} → rolling back to revision ${to} (${plural(found.images.length, 'image')} ${images})`,
    );
    const body = templatePatch(
      workload.metadata,
      target.template,
      `rollback-bot: rollback ${ctx.rollback.id} of ${ctx.rollback.service} to revision ${to}`,
    );
    const options = callOptions(signal, k8s.PatchStrategy.JsonPatch);
    const patched = await call<Workload>('patch', () =>
      kind === 'StatefulSet'
        ? apps.patchNamespacedStatefulSet({ name, namespace, body }, options)
        : apps.patchNamespacedDaemonSet({ name, namespace, body }, options),
    );
    const generation = patched.metadata?.generation ?? 0;
    ctx.log.line(`template of revision ${to} applied (generation ${generation}); waiting for the rollout`);
    const end = await waitRollout(generation);
    if (end.kind === 'failed') {
      return {
        outcome: 'failed',
        error: `${what} rollback to revision ${to} ${end.detail}`,
        output: outputOf(found),
      };
    }
    return {
      outcome: 'succeeded',
      output: { ...outputOf(found), changed: true },
      summary: `${what} rolled back from revision ${from} to revision ${to} (${images})`,
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
