/**
 * How an Argo Rollout is read: the fields this executor uses, its ReplicaSets as a revision history
 * (keyed by `rollouts-pod-template-hash`, which survives renumbering), and what its status means
 * while an undo or an abort is waited on.
 */
import * as k8s from '@kubernetes/client-node';
import { callOptions } from './client.js';
import type { KubernetesParams } from './params.js';
import { labelSelector, withoutLabel, type ApiCall, type WaitState } from './step.js';
import type { History, Revision } from './target.js';

export const ROLLOUT_REVISION = 'rollout.argoproj.io/revision';
const HASH_LABEL = 'rollouts-pod-template-hash';

/** The fields of an argoproj.io/v1alpha1 Rollout this executor reads. */
export interface Rollout {
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
    currentPodHash?: string;
    stableRS?: string;
    /** A string in Argo Rollouts: the generation number the controller has seen. */
    observedGeneration?: string | number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
  };
}

export type RolloutParams = KubernetesParams & { kind: 'Rollout' };

/** The Rollout's API: read it, list its ReplicaSets, patch it or its status. */
export function rolloutApi(params: KubernetesParams, config: k8s.KubeConfig) {
  const { namespace, name } = params;
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const ref = { group: 'argoproj.io', version: 'v1alpha1', namespace, plural: 'rollouts', name };
  return {
    ref,
    custom,
    read: async (call: ApiCall, signal: AbortSignal) =>
      (await call('read', () => custom.getNamespacedCustomObject(ref, callOptions(signal)))) as Rollout,
    /** The history of the Rollout: the ReplicaSets whose controller is this Rollout. */
    history: async (rollout: Rollout, call: ApiCall, signal: AbortSignal): Promise<History> => {
      const uid = rollout.metadata?.uid;
      const selector = labelSelector(rollout.spec?.selector);
      const list = await call('list the ReplicaSets of', () =>
        apps.listNamespacedReplicaSet(
          { namespace, ...(selector ? { labelSelector: selector } : {}) },
          callOptions(signal),
        ),
      );
      const owned = new Map<number, Revision>();
      for (const rs of list.items) {
        const number = revisionOf(rs.metadata);
        const mine = rs.metadata?.ownerReferences?.some(
          (o) => o.controller && o.kind === 'Rollout' && o.uid === uid,
        );
        if (!mine || number === undefined || !rs.spec?.template) continue;
        const key = rs.metadata?.labels?.[HASH_LABEL] ?? rs.metadata?.name ?? String(number);
        owned.set(number, { number, key, template: withoutLabel(rs.spec.template, HASH_LABEL) });
      }
      return {
        what: `rollout ${namespace}/${name}`,
        noun: 'ReplicaSet',
        revisions: [...owned.values()].sort((a, b) => a.number - b.number),
        currentNumber: revisionOf(rollout.metadata) ?? 0,
        live: rollout.spec?.template,
        container: params.container,
      };
    },
  };
}

export function revisionOf(metadata: k8s.V1ObjectMeta | undefined): number | undefined {
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
export function undoState(rollout: Rollout, generation: number): WaitState {
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
export function abortState(rollout: Rollout): WaitState {
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
