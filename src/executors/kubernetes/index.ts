import type { Executor } from '../executor.js';
import { defaultKubeConfig, selectContext, type KubeConfigLoader } from './client.js';
import { undoDeployment } from './deployment.js';
import { kubernetesParams, type KubernetesParams } from './params.js';

/** The kubernetes executor; `loadConfig` is where a test points it at a local API server. */
export function createKubernetesExecutor(
  loadConfig: KubeConfigLoader = defaultKubeConfig,
): Executor<KubernetesParams> {
  return {
    kind: 'kubernetes',
    description: 'Rolls a Deployment back to its previous or a named revision and waits for the rollout.',
    params: kubernetesParams,
    implemented: true,
    async run(ctx, params) {
      if (params.kind !== 'Deployment') {
        return {
          outcome: 'failed',
          error: `rolling back a ${params.kind} is not supported yet: the kubernetes executor rolls back Deployments only`,
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
      return undoDeployment(ctx, params, config);
    },
  };
}

export const kubernetesExecutor = createKubernetesExecutor();
