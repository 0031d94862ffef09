/**
 * `kubectl rollout undo` for a Deployment, done natively: find the ReplicaSets the Deployment owns,
 * pick the target revision, put its pod template back (a JSON Patch guarded by resourceVersion) and
 * wait until the rollout completes, stalls past its progress deadline, or the step is stopped.
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
  Stopped,
  templatePatch,
  withoutLabel,
  type ApiCall,
  type WaitState,
} from './step.js';
import { decideRestore } from './restore-decision.js';
import { chooseTarget, readPin, resolution, type History, type Pin, type Revision } from './target.js';

export const REVISION = 'deployment.kubernetes.io/revision';
const HASH_LABEL = 'pod-template-hash';

interface Loaded {
  deployment: k8s.V1Deployment;
  history: History;
}

/** Reads the Deployment and the ReplicaSets it owns, as `run` and `resolve` both need them. */
async function load(
  params: KubernetesParams,
  apps: k8s.AppsV1Api,
  call: ApiCall,
  signal: AbortSignal,
): Promise<Loaded | string> {
  const { namespace, name } = params;
  const what = `deployment ${namespace}/${name}`;
  const deployment = await call('read', () =>
    apps.readNamespacedDeployment({ name, namespace }, callOptions(signal)),
  );
  const uid = deployment.metadata?.uid;
  const currentNumber = revisionOf(deployment.metadata);
  if (currentNumber === undefined) return `${what} has no ${REVISION} annotation: it has never rolled out`;
  if (deployment.spec?.paused) return `${what} is paused: resume it before rolling it back`;
  const selector = labelSelector(deployment.spec?.selector);
  const list = await call('list the ReplicaSets of', () =>
    apps.listNamespacedReplicaSet(
      { namespace, ...(selector ? { labelSelector: selector } : {}) },
      callOptions(signal),
    ),
  );
  const owned = new Map<number, Revision>();
  for (const rs of list.items) {
    const number = revisionOf(rs.metadata);
    const mine = rs.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === uid);
    if (!mine || number === undefined || !rs.spec?.template) continue;
    const key = rs.metadata?.labels?.[HASH_LABEL] ?? rs.metadata?.name ?? String(number);
    owned.set(number, { number, key, template: podTemplateOf(rs) });
  }
  const revisions = [...owned.values()].sort((a, b) => a.number - b.number);
  return {
    deployment,
    history: {
      what,
      noun: 'ReplicaSet',
      revisions,
      currentNumber,
      live: deployment.spec?.template,
      container: params.container,
    },
  };
}

/** What a rollback of the Deployment would restore now, read without changing anything. */
export function resolveDeployment(
  ctx: ResolveContext,
  params: KubernetesParams,
  config: k8s.KubeConfig,
): Promise<Resolution> {
  const what = `deployment ${params.namespace}/${params.name}`;
  const apps = config.makeApiClient(k8s.AppsV1Api);
  return resolveStep(ctx, params, what, async (call, signal) => {
    const loaded = await load(params, apps, call, signal);
    if (typeof loaded === 'string') return { ok: false, error: loaded };
    const chosen = chooseTarget(loaded.history, { toRevision: params.toRevision, toVersion: ctx.toVersion });
    if (!chosen.ok) return chosen;
    return resolution(loaded.history, chosen, 'hash');
  });
}

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
    const loaded = await load(params, apps, call, signal);
    if (typeof loaded === 'string') return { outcome: 'failed', error: loaded };
    const { deployment, history } = loaded;
    const from = history.currentNumber;
    found.fromRevision = from;

    /** Waits for the rollout of `generation`; a Deployment's time-limit error never names the last state. */
    const waitRollout = async (generation: number) => {
      let current = deployment;
      try {
        const state = await waitFor(async () => rolloutState((current = await read()), generation));
        return { state, revision: revisionOf(current.metadata) };
      } catch (error) {
        if (error instanceof Stopped) found.last = undefined;
        throw error;
      }
    };

    let pin: Pin | undefined;
    if (ctx.target !== undefined) {
      const pinned = readPin(what, 'hash', ctx.target.pin);
      if (!pinned.ok) return { outcome: 'failed', conflict: true, error: pinned.error };
      pin = pinned.pin;
    }
    const decision = decideRestore(history, { pin, toRevision: params.toRevision });
    if (decision.kind === 'conflict') {
      return { outcome: 'failed', conflict: true, error: decision.error, output: outputOf(found) };
    }
    if (decision.kind === 'refused') {
      found.toRevision = params.toRevision;
      return { outcome: 'failed', error: decision.error };
    }
    const target = decision.target;
    found.toRevision = target.number;
    found.images = imagesOf(target.template);
    if (decision.kind === 'converged') {
      const images = found.images.join(', ');
      ctx.log.line(
        `${what} already runs the target template (revision ${from}, ${images}): waiting for its rollout`,
      );
      const { state, revision } = await waitRollout(deployment.metadata?.generation ?? 0);
      if (state.kind === 'failed') {
        return {
          outcome: 'failed',
          error: `${what} rollback to revision ${from} ${state.detail}`,
          output: outputOf(found),
        };
      }
      return {
        outcome: 'succeeded',
        output: { ...outputOf(found), ...(revision === undefined ? {} : { revision }), changed: false },
        summary: `${what} is on the target revision ${revision ?? from} (${images}): rollout complete`,
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
    const images = found.images;
    ctx.log.line(
      `current revision ${from} → rolling back to revision ${to} (${plural(images.length, 'image')} ${images.join(', ')})`,
    );

    const patch = templatePatch(
      deployment.metadata,
      target.template,
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

    const { state, revision } = await waitRollout(generation);
    if (state.kind === 'failed') {
      return {
        outcome: 'failed',
        error: `${what} rollback to revision ${to} ${state.detail}`,
        output: outputOf(found),
      };
    }
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
