// Tested by test/integration/executors/kubernetes.test.ts, test/integration/executors/kubernetes-in-cluster.test.ts, test/integration/executors/kubernetes-targets.test.ts, test/e2e/exact-targets.test.ts, test/unit/executors/kubernetes-restore-decision.test.ts, test/integration/executors/kubernetes-permissions.test.ts, test/unit/deploy/kubernetes-manifests.test.ts.
import type * as k8s from '@kubernetes/client-node';
import type { Executor } from '../executor.js';
import { kubeConfigLoader, selectContext, type KubeConfigLoader } from './client.js';
import { resolveRollout, rollbackRollout } from './argo.js';
import { resolveDeployment, undoDeployment } from './deployment.js';
import { resolveFromControllerRevisions, undoFromControllerRevisions } from './revisions.js';
import { kubernetesParams, type KubernetesParams } from './params.js';

/**
 * The kubernetes executor; `loadConfig` is where a test points it at a local API server (default:
 * credentials from the bot's environment, kubeconfig files or the pod's service account).
 */
export function createKubernetesExecutor(
  loadConfig: KubeConfigLoader = kubeConfigLoader({ env: process.env }),
): Executor<KubernetesParams> {
  /** The parameters' own problem, the kubeconfig's, or a KubeConfig on the requested context. */
  const connect = (params: KubernetesParams): k8s.KubeConfig | string => {
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
  };

  return {
    kind: 'kubernetes',
    description:
      'Rolls a Deployment, StatefulSet, DaemonSet or Argo Rollout back to its previous or a named revision (or aborts a Rollout) and waits for the rollout.',
    params: kubernetesParams,
    resolve(ctx, params) {
      const config = connect(params);
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
    },
    run(ctx, params) {
      const config = connect(params);
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
    },
  };
}

export const kubernetesExecutor = createKubernetesExecutor();
