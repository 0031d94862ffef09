/**
 * `kubectl rollout undo` for a Deployment, done natively: find the ReplicaSets the Deployment owns,
 * pick the target revision, put its pod template back (a JSON Patch guarded by resourceVersion) and
 * wait until the rollout completes, stalls past its progress deadline, or the step is stopped.
 */
import * as k8s from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { ExecutorContext, StepResult } from '../executor.js';
import { pause } from '../http-kit.js';
import { apiStatus, callOptions, describeApiError } from './client.js';
import type { KubernetesParams } from './params.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
const HASH_LABEL = 'pod-template-hash';

/** Stopped by the caller (abort/cancel) or by the step's time limit: thrown out of the API calls. */
class Stopped extends Error {}

export async function undoDeployment(
  ctx: ExecutorContext,
  params: KubernetesParams,
  config: k8s.KubeConfig,
): Promise<StepResult> {
  const { namespace, name } = params;
  const what = `deployment ${namespace}/${name}`;
  const limitMs = Math.min(params.timeout, ctx.timeoutMs);
  const stepLimit = AbortSignal.timeout(Math.max(1, limitMs));
  const signal = AbortSignal.any([ctx.signal, stepLimit]);
  const apps = config.makeApiClient(k8s.AppsV1Api);
  let fromRevision: number | undefined;
  let toRevision: number | undefined;
  let images: string[] = [];
  const output = () => ({ fromRevision, toRevision, images });

  const stopped = () => signal.aborted;
  const call = async <T>(doing: string, request: () => Promise<T>): Promise<T> => {
    if (stopped()) throw new Stopped();
    try {
      return await request();
    } catch (error) {
      if (stopped()) throw new Stopped('stopped', { cause: error });
      if (apiStatus(error) === 404 && doing === 'read')
        throw new Error(`${what} not found`, { cause: error });
      throw new Error(`${doing} ${what} failed: ${describeApiError(error)}`, { cause: error });
    }
  };
  const read = () =>
    call('read', () => apps.readNamespacedDeployment({ name, namespace }, callOptions(signal)));

  try {
    const deployment = await read();
    const uid = deployment.metadata?.uid;
    fromRevision = revisionOf(deployment.metadata);
    if (fromRevision === undefined) {
      return { outcome: 'failed', error: `${what} has no ${REVISION} annotation: it has never rolled out` };
    }
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
    toRevision = params.toRevision ?? revisions.filter((r) => r < fromRevision!).at(-1);
    if (toRevision === undefined) {
      return {
        outcome: 'failed',
        error: `${what} has no revision before ${fromRevision} to roll back to; revisions: ${revisions.join(', ') || 'none'}`,
      };
    }
    const target = owned.get(toRevision);
    if (!target?.spec?.template) {
      return {
        outcome: 'failed',
        error: `${what} has no revision ${toRevision}; revisions: ${revisions.join(', ') || 'none'}`,
      };
    }
    const template = podTemplateOf(target);
    images = imagesOf(template);
    if (toRevision === fromRevision || isDeepStrictEqual(template, deployment.spec?.template)) {
      ctx.log.line(`${what} already runs the template of revision ${toRevision}: nothing to roll back`);
      return {
        outcome: 'succeeded',
        output: { ...output(), changed: false },
        summary: `${what} already on revision ${toRevision} (${images.join(', ')}): nothing to roll back`,
      };
    }
    ctx.log.line(
      `current revision ${fromRevision} → rolling back to revision ${toRevision} (image${images.length === 1 ? '' : 's'} ${images.join(', ')})`,
    );

    const patch = rollbackPatch(deployment, template, {
      cause: `rollback-bot: rollback ${ctx.rollback.id} of ${ctx.rollback.service} to revision ${toRevision}`,
    });
    const patched = await call('patch', () =>
      apps.patchNamespacedDeployment(
        { name, namespace, body: patch },
        callOptions(signal, k8s.PatchStrategy.JsonPatch),
      ),
    );
    const generation = patched.metadata?.generation ?? 0;
    ctx.log.line(
      `template of revision ${toRevision} applied (generation ${generation}); waiting for the rollout`,
    );

    let last = '';
    for (;;) {
      const current = await read();
      const state = rolloutState(current, generation);
      if (state.line !== last) ctx.log.line(state.line);
      last = state.line;
      if (state.kind === 'done') {
        const revision = revisionOf(current.metadata);
        return {
          outcome: 'succeeded',
          output: { ...output(), ...(revision === undefined ? {} : { revision }), changed: true },
          summary: `${what} rolled back from revision ${fromRevision} to revision ${toRevision} (${images.join(', ')})`,
        };
      }
      if (state.kind === 'stalled') {
        return {
          outcome: 'failed',
          error: `${what} rollback to revision ${toRevision} ${state.detail}`,
          output: output(),
        };
      }
      if (!(await pause(params.pollInterval, signal))) throw new Stopped();
    }
  } catch (error) {
    if (error instanceof Stopped) {
      const doing = toRevision === undefined ? 'rollback' : `rollback to revision ${toRevision}`;
      return {
        outcome: 'failed',
        error: ctx.signal.aborted
          ? `${what} ${doing} was stopped (rollback cancelled or bot shutting down)`
          : `${what} ${doing} did not finish within the step's time limit of ${humanMs(limitMs)}`,
        output: output(),
      };
    }
    return {
      outcome: 'failed',
      error: error instanceof Error ? error.message : String(error),
      output: output(),
    };
  }
}

function humanMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function revisionOf(metadata: k8s.V1ObjectMeta | undefined): number | undefined {
  const text = metadata?.annotations?.[REVISION];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** matchLabels as a label selector string; matchExpressions are not needed to find the owned sets. */
function labelSelector(selector: k8s.V1LabelSelector | undefined): string {
  return Object.entries(selector?.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** The ReplicaSet's pod template without the label the controller adds to every ReplicaSet. */
export function podTemplateOf(rs: k8s.V1ReplicaSet): k8s.V1PodTemplateSpec {
  const template = structuredClone(rs.spec!.template!);
  const labels = template.metadata?.labels;
  if (template.metadata && labels) {
    template.metadata.labels = Object.fromEntries(
      Object.entries(labels).filter(([key]) => key !== HASH_LABEL),
    );
  }
  return template;
}

function imagesOf(template: k8s.V1PodTemplateSpec): string[] {
  return (template.spec?.containers ?? []).map((c) => c.image ?? `${c.name} (no image)`);
}

/**
 * A JSON Patch: fails (422) if the Deployment changed since it was read, replaces the template
 * whole (a merge would keep fields only the newer template has) and records the change cause.
 */
function rollbackPatch(
  deployment: k8s.V1Deployment,
  template: k8s.V1PodTemplateSpec,
  { cause }: { cause: string },
) {
  const hasAnnotations = deployment.metadata?.annotations !== undefined;
  return [
    { op: 'test', path: '/metadata/resourceVersion', value: deployment.metadata?.resourceVersion },
    { op: 'replace', path: '/spec/template', value: template },
    hasAnnotations
      ? { op: 'add', path: `/metadata/annotations/${CHANGE_CAUSE.replace('/', '~1')}`, value: cause }
      : { op: 'add', path: '/metadata/annotations', value: { [CHANGE_CAUSE]: cause } },
  ];
}

type RolloutState =
  { kind: 'waiting' | 'done'; line: string } | { kind: 'stalled'; line: string; detail: string };

/** The same checks as `kubectl rollout status`. */
function rolloutState(deployment: k8s.V1Deployment, generation: number): RolloutState {
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
    return { kind: 'stalled', line: `rollout stalled: ${detail}`, detail };
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
