/**
 * What the kubernetes executor does, with the client library: loaded by index.ts on the first
 * kubernetes step, so that a bot whose plans use none never loads it.
 */
import type * as k8s from '@kubernetes/client-node';
import type { ExecutorContext, ResolveContext, Resolution, StepResult } from '../executor.js';
import { kubeConfigLoader, selectContext, type KubeConfigLoader } from './client.js';
import { resolveRollout, rollbackRollout } from './argo.js';
import { resolveDeployment, undoDeployment } from './deployment.js';
import { resolveFromControllerRevisions, undoFromControllerRevisions } from './revisions.js';
import type { KubernetesParams } from './params.js';

/** Credentials from the bot's environment, kubeconfig files or the pod's service account. */
export const environmentLoader = (): KubeConfigLoader => kubeConfigLoader({ env: process.env });

/** The parameters' own problem, the kubeconfig's, or a KubeConfig on the requested context. */
function connect(params: KubernetesParams, loadConfig: KubeConfigLoader): k8s.KubeConfig | string {
  if (params.action === 'abort' && params.kind !== 'Rollout') {
    return `action: abort applies to kind: Rollout only, not ${params.kind}`;
  }
  let config;
  try {
    config = loadConfig(params);
  } catch (error) {
    return `cannot load the kubeconfig${params.kubeconfig ? ` ${params.kubeconfig}` : ''}: ${error instanceof Error ? error.message : String(error)}`;
  }
  return selectContext(config, params.context) ?? config;
}

export function resolve(
  ctx: ResolveContext,
  params: KubernetesParams,
  loadConfig: KubeConfigLoader,
): Promise<Resolution> {
  const config = connect(params, loadConfig);
  if (typeof config === 'string') return Promise.resolve({ ok: false, error: config });
  switch (params.kind) {
    case 'Rollout':
      return resolveRollout(ctx, { ...params, kind: params.kind }, config);
    case 'StatefulSet':
    case 'DaemonSet':
      return resolveFromControllerRevisions(ctx, { ...params, kind: params.kind }, config);
    default:
      return resolveDeployment(ctx, params, config);
  }
}

export function run(
  ctx: ExecutorContext,
  params: KubernetesParams,
  loadConfig: KubeConfigLoader,
): Promise<StepResult> {
  const config = connect(params, loadConfig);
  if (typeof config === 'string') return Promise.resolve({ outcome: 'failed', error: config });
  switch (params.kind) {
    case 'Rollout':
      return rollbackRollout(ctx, { ...params, kind: params.kind }, config);
    case 'StatefulSet':
    case 'DaemonSet':
      return undoFromControllerRevisions(ctx, { ...params, kind: params.kind }, config);
    default:
      return undoDeployment(ctx, params, config);
  }
}
