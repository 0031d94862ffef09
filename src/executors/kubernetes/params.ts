import { z } from 'zod';
import { duration, nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { timeout } from '../shared-params.js';

export const kubernetesParams = strictObject({
  kind: z
    .enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'])
    .describe(
      'Workload kind. Only Deployment is rolled back so far; StatefulSet, DaemonSet and Rollout (Argo) fail the step as not supported yet.',
    ),
  namespace: nonEmptyText('Namespace of the workload.'),
  name: nonEmptyText('Name of the workload.'),
  toRevision: z.int().min(1).optional().describe('Revision to return to (default: the previous one).'),
  kubeconfig: nonEmptyText(
    'Path of the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account).',
  ).optional(),
  context: nonEmptyText('kubeconfig context to use (default: the current one).').optional(),
  pollInterval: duration('How often the rollout is checked while it progresses (default 2s).').prefault('2s'),
  timeout: timeout('10m'),
});

export type KubernetesParams = z.output<typeof kubernetesParams>;
