import { z } from 'zod';
import { nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { timeout } from '../shared-params.js';

export const kubernetesParams = strictObject({
  kind: z
    .enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'])
    .describe('Workload kind; Rollout is an Argo Rollout (aborted, then undone).'),
  namespace: nonEmptyText('Namespace of the workload.'),
  name: nonEmptyText('Name of the workload.'),
  toRevision: z.int().min(1).optional().describe('Revision to return to (default: the previous one).'),
  context: nonEmptyText('kubeconfig context to use (default: the current one).').optional(),
  timeout: timeout('10m'),
});

export type KubernetesParams = z.output<typeof kubernetesParams>;
