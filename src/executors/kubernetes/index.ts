// Tested by test/integration/executors/kubernetes.test.ts, test/integration/executors/kubernetes-in-cluster.test.ts, test/integration/executors/kubernetes-targets.test.ts, test/e2e/exact-targets.test.ts, test/unit/executors/kubernetes-restore-decision.test.ts, test/integration/executors/kubernetes-permissions.test.ts, test/unit/deploy/kubernetes-manifests.test.ts.
import type { Executor } from '../executor.js';
import type { KubeConfigLoader } from './client.js';
import { kubernetesParams, type KubernetesParams } from './params.js';

/**
 * The kubernetes executor; `loadConfig` is where a test points it at a local API server (default:
 * credentials from the bot's environment, kubeconfig files or the pod's service account).
 *
 * The client library is a third of an idle bot's memory (docs/performance.md): a bot whose plans use
 * no kubernetes step never loads it. One whose plans do loads it at start-up (`preload`), before the
 * workers take steps: loaded inside a running step, its seconds of module evaluation on a busy
 * machine held the event loop past the step's lease.
 */
export function createKubernetesExecutor(loadConfig?: KubeConfigLoader): Executor<KubernetesParams> {
  let operations: Promise<{ ops: typeof import('./operations.js'); loader: KubeConfigLoader }> | undefined;
  const load = () =>
    (operations ??= import('./operations.js').then((ops) => ({
      ops,
      loader: loadConfig ?? ops.environmentLoader(),
    })));
  return {
    kind: 'kubernetes',
    description:
      'Rolls a Deployment, StatefulSet, DaemonSet or Argo Rollout back to its previous or a named revision (or aborts a Rollout) and waits for the rollout.',
    params: kubernetesParams,
    async preload() {
      await load();
    },
    async resolve(ctx, params) {
      const { ops, loader } = await load();
      return ops.resolve(ctx, params, loader);
    },
    async run(ctx, params) {
      const { ops, loader } = await load();
      return ops.run(ctx, params, loader);
    },
  };
}

export const kubernetesExecutor = createKubernetesExecutor();
