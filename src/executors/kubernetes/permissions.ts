/**
 * The Kubernetes API permissions the kubernetes executor needs, as RBAC rules: exactly the calls it
 * makes (deployment.ts, revisions.ts, argo-api.ts, argo.ts) and nothing more. It only reads a
 * workload, lists its history and patches the workload back; it never creates, deletes, watches or
 * touches pods, secrets or anything outside these resources.
 *
 * deploy/kubernetes/rbac.yaml grants these rules, and two tests hold the three together: one
 * records every request the executor sends to the fake API server and maps it to a rule, the other
 * compares the ClusterRole with this list.
 */
export type KubernetesVerb = 'get' | 'list' | 'patch';

export interface KubernetesPermission {
  apiGroup: string;
  resource: string;
  verbs: readonly KubernetesVerb[];
  /** Why: the call that needs it. */
  for: string;
}

export const KUBERNETES_PERMISSIONS: readonly KubernetesPermission[] = [
  {
    apiGroup: 'apps',
    resource: 'deployments',
    verbs: ['get', 'patch'],
    for: 'read the Deployment and its revision; JSON Patch the old template back',
  },
  {
    apiGroup: 'apps',
    resource: 'replicasets',
    verbs: ['list'],
    for: 'the revision history of a Deployment or an Argo Rollout (by label selector)',
  },
  {
    apiGroup: 'apps',
    resource: 'statefulsets',
    verbs: ['get', 'patch'],
    for: 'read the StatefulSet; JSON Patch the old template back',
  },
  {
    apiGroup: 'apps',
    resource: 'daemonsets',
    verbs: ['get', 'patch'],
    for: 'read the DaemonSet; JSON Patch the old template back',
  },
  {
    apiGroup: 'apps',
    resource: 'controllerrevisions',
    verbs: ['list'],
    for: 'the revision history of a StatefulSet or DaemonSet (by label selector)',
  },
  {
    apiGroup: 'argoproj.io',
    resource: 'rollouts',
    verbs: ['get', 'patch'],
    for: 'read the Rollout; JSON Patch the old template back (undo)',
  },
  {
    apiGroup: 'argoproj.io',
    resource: 'rollouts/status',
    verbs: ['patch'],
    for: 'abort an update: the merge patch {"status":{"abort":true}} kubectl argo rollouts abort sends',
  },
];
