import type { Executor } from '../executor.js';
import { defaultKubeConfig, selectContext, type KubeConfigLoader } from './client.js';
import { rollbackRollout } from './argo.js';
import { undoDeployment } from './deployment.js';
import { undoFromControllerRevisions } from './revisions.js';
import { kubernetesParams, type KubernetesParams } from './params.js';

/** The kubernetes executor; `loadConfig` is where a test points it at a local API server. */
export function createKubernetesExecutor(
  loadConfig: KubeConfigLoader = defaultKubeConfig,
): Executor<KubernetesParams> {
  return {
    kind: 'kubernetes',
    description:
      'Rolls a Deployment, StatefulSet, DaemonSet or Argo Rollout back to its previous or a named revision (or aborts a Rollout) and waits for the rollout.',
    params: kubernetesParams,
    implemented: true,
    async run(ctx, params) {
      if (params.action === 'abort' && params.kind !== 'Rollout') {
        return {
          outcome: 'failed',
          error: `action: abort applies to kind: Rollout only, not ${params.kind}`,
        };
      }
      let config;
      try {
        config = loadConfig(params);
      } catch (error) {
        return {
          outcome: 'failed',
          error: `cannot load the kubeconfig${params.kubeconfig ? ` ${params.kubeconfig}` : ''}: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      const contextProblem = selectContext(config, params.context);
      if (contextProblem) return { outcome: 'failed', error: contextProblem };
      switch (params.kind) {
        case 'Rollout':
          return rollbackRollout(ctx, params, config);
        case 'StatefulSet':
        case 'DaemonSet':
          return undoFromControllerRevisions(ctx, { ...params, kind: params.kind }, config);
        default:
          return undoDeployment(ctx, params, config);
      }
    },
  };
}

export const kubernetesExecutor = createKubernetesExecutor();
