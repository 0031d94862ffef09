/**
 * `kubectl rollout undo` for a Deployment, done natively: find the ReplicaSets the Deployment owns,
 * pick the target revision, put its pod template back (a JSON Patch guarded by resourceVersion) and
 * wait until the rollout completes, stalls past its progress deadline, or the step is stopped.
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
  Stopped,
  templatePatch,
  withoutLabel,
  type WaitState,
} from './step.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
const HASH_LABEL = 'pod-template-hash';

export async function undoDeployment(
  ctx: ExecutorContext,
  params: KubernetesParams,
  config: k8s.KubeConfig,
): Promise<StepResult> {
  const { namespace, name } = params;
  const what = `deployment ${namespace}/${name}`;
  const apps = config.makeApiClient(k8s.AppsV1Api);

  return runStep(ctx, params, what, async ({ signal, found, call, waitFor }) => {
    const read = () =>
      call('read', () => apps.readNamespacedDeployment({ name, namespace }, callOptions(signal)));
    const deployment = await read();
    const uid = deployment.metadata?.uid;
    const from = revisionOf(deployment.metadata);
    if (from === undefined) {
      return { outcome: 'failed', error: `${what} has no ${REVISION} annotation: it has never rolled out` };
    }
    found.fromRevision = from;
    if (deployment.spec?.paused) {
      return { outcome: 'failed', error: `${what} is paused: resume it before rolling it back` };
    }
    const selector = labelSelector(deployment.spec?.selector);
    const list = await call('list the ReplicaSets of', () =>
      apps.listNamespacedReplicaSet(
        { namespace, ...(selector ? { labelSelector: selector } : {}) },
        callOptions(signal),
      ),
    );
    const owned = new Map<number, k8s.V1ReplicaSet>();
    for (const rs of list.items) {
      const revision = revisionOf(rs.metadata);
      const mine = rs.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === uid);
      if (mine && revision !== undefined) owned.set(revision, rs);
    }
    const revisions = [...owned.keys()].sort((a, b) => a - b);
    const to = params.toRevision ?? revisions.filter((r) => r < from).at(-1);
    found.toRevision = to;
    if (to === undefined) {
      return {
        outcome: 'failed',
        error: `${what} has no revision before ${from} to roll back to; revisions: ${revisionList(revisions)}`,
      };
    }
    const target = owned.get(to);
    if (!target?.spec?.template) {
      return {
        outcome: 'failed',
        error: `${what} has no revision ${to}; revisions: ${revisionList(revisions)}`,
      };
    }
    const template = podTemplateOf(target);
    const images = imagesOf(template);
    found.images = images;
    if (to === from || isDeepStrictEqual(template, deployment.spec?.template)) {
      ctx.log.line(`${what} already runs the template of revision ${to}: nothing to roll back`);
      return {
        outcome: 'succeeded',
        output: { ...outputOf(found), changed: false },
        summary: `${what} already on revision ${to} (${images.join(', ')}): nothing to roll back`,
      };
    }
    ctx.log.line(
      `current revision ${from} → rolling back to revision ${to} (${plural(images.length, 'image')} ${images.join(', ')})`,
    );

    const patch = templatePatch(
      deployment.metadata,
      template,
      `rollback-bot: rollback ${ctx.rollback.id} of ${ctx.rollback.service} to revision ${to}`,
    );
    const patched = await call('patch', () =>
      apps.patchNamespacedDeployment(
        { name, namespace, body: patch },
        callOptions(signal, k8s.PatchStrategy.JsonPatch),
      ),
    );
    const generation = patched.metadata?.generation ?? 0;
    ctx.log.line(`template of revision ${to} applied (generation ${generation}); waiting for the rollout`);

    let current = deployment;
    let state: Exclude<WaitState, { kind: 'waiting' }>;
    try {
      state = await waitFor(async () => rolloutState((current = await read()), generation));
    } catch (error) {
      // A Deployment's time-limit error has never named the last state: keep it that way.
      if (error instanceof Stopped) found.last = undefined;
      throw error;
    }
    if (state.kind === 'failed') {
      return {
        outcome: 'failed',
        error: `${what} rollback to revision ${to} ${state.detail}`,
        output: outputOf(found),
      };
    }
    const revision = revisionOf(current.metadata);
    return {
      outcome: 'succeeded',
      output: { ...outputOf(found), ...(revision === undefined ? {} : { revision }), changed: true },
      summary: `${what} rolled back from revision ${from} to revision ${to} (${images.join(', ')})`,
    };
  });
}

function revisionOf(metadata: k8s.V1ObjectMeta | undefined): number | undefined {
  const text = metadata?.annotations?.[REVISION];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** The ReplicaSet's pod template without the label the controller adds to every ReplicaSet. */
export function podTemplateOf(rs: k8s.V1ReplicaSet): k8s.V1PodTemplateSpec {
  return withoutLabel(rs.spec!.template!, HASH_LABEL);
}

/** The same checks as `kubectl rollout status`. */
function rolloutState(deployment: k8s.V1Deployment, generation: number): WaitState {
  const status = deployment.status;
  const observed = status?.observedGeneration ?? 0;
  if (observed < Math.max(generation, deployment.metadata?.generation ?? 0)) {
    return {
      kind: 'waiting',
      line: `rollout: waiting for the controller to observe generation ${generation}`,
    };
  }
  const progressing = status?.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const seconds = deployment.spec?.progressDeadlineSeconds;
    const detail = `exceeded its progress deadline${seconds === undefined ? '' : ` of ${seconds}s`} (ProgressDeadlineExceeded)${progressing.message ? `: ${progressing.message}` : ''}`;
    return { kind: 'failed', line: `rollout stalled: ${detail}`, detail };
  }
  const wanted = deployment.spec?.replicas ?? 1;
  const updated = status?.updatedReplicas ?? 0;
  const available = status?.availableReplicas ?? 0;
  const total = status?.replicas ?? 0;
  const line = `rollout: ${updated}/${wanted} updated, ${available}/${wanted} available`;
  if (updated < wanted) return { kind: 'waiting', line };
  if (total > updated)
    return { kind: 'waiting', line: `${line}, ${total - updated} old replica(s) terminating` };
  if (available < updated) return { kind: 'waiting', line };
  return { kind: 'done', line: `${line}: rollout complete` };
}
