import { z } from 'zod';
import { duration, nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { timeout } from '../shared-params.js';

export const kubernetesParams = strictObject({
  kind: z
    .enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'])
    .describe(
      'Workload kind: Deployment, StatefulSet or DaemonSet (apps/v1), or Rollout (Argo Rollouts, argoproj.io/v1alpha1).',
    ),
  namespace: nonEmptyText('Namespace of the workload.'),
  name: nonEmptyText('Name of the workload.'),
  action: z
    .enum(['undo', 'abort'])
    .default('undo')
    .describe(
      'Rollout only: abort (stop the update, traffic back to stable) or undo (abort an update in progress, then put the target revision back). Default undo.',
    ),
  toRevision: z
    .int()
    .min(1)
    .optional()
    .describe(
      'Revision to return to (default: the revision running the version asked for with --to, else the previous one).',
    )
    .meta({ examples: [6] }),
  container: nonEmptyText(
    'Container whose image tag is the version shown and matched by --to (default: the first container).',
  )
    .meta({ examples: ['api'] })
    .optional(),
  kubeconfig: nonEmptyText(
    'Path of the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account).',
  )
    .meta({ examples: ['/etc/rollback-bot/kubeconfig'] })
    .optional(),
  context: nonEmptyText('kubeconfig context to use (default: the current one).').optional(),
  pollInterval: duration('How often the rollout is checked while it progresses (default 2s).').prefault('2s'),
  timeout: timeout('10m'),
});

export type KubernetesParams = z.output<typeof kubernetesParams>;
