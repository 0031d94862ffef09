/**
 * deploy/kubernetes/ as an operator applies it (`kubectl apply -k`): every file parses, every object
 * has the fields the API server requires, the pieces refer to each other by the right names, the
 * probes hit routes the bot serves, and the ClusterRole grants exactly the kubernetes executor's
 * permissions (src/executors/kubernetes/permissions.ts), no more.
 */
import type * as k8s from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { validateManifestTexts } from '../../../src/config/manifests.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';
import { KUBERNETES_PERMISSIONS } from '../../../src/executors/kubernetes/permissions.js';
import { httpRoutes, type RouteDependencies } from '../../../src/http/routes.js';
import { silentLogger } from '../../../src/lib/logging.js';

const dir = join(import.meta.dirname, '../../../deploy/kubernetes');

interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: k8s.V1ObjectMeta;
}

/** The API types' fields without their classes: these objects come from YAML, not from the client. */
type Plain<T> = { [K in keyof T]: T[K] };

interface Kustomization {
  resources: string[];
  configMapGenerator: { name: string; namespace?: string; files: string[] }[];
  images: { name: string; newName?: string; newTag?: string }[];
}

const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name));
const loaded = files.flatMap((file) =>
  YAML.parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((document) => {
    expect(document.errors, file).toEqual([]);
    return { file, doc: document.toJS() as unknown };
  }),
);
const objects = loaded
  .filter(({ file }) => file !== 'kustomization.yaml')
  .map(({ file, doc }) => ({ file, doc: doc as KubeObject }));
const kustomization = loaded.find(({ file }) => file === 'kustomization.yaml')!.doc as Kustomization;

/** The one object of a kind (the test fails when there are none or several). */
function one(kind: string): KubeObject {
  const found = objects.filter(({ doc }) => doc.kind === kind);
  expect(
    found.map(({ file }) => file),
    `one ${kind}`,
  ).toHaveLength(1);
  return found[0]!.doc;
}

const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  Service: 'v1',
  Secret: 'v1',
  Deployment: 'apps/v1',
  PodDisruptionBudget: 'policy/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
};
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole']);

const deployment = one('Deployment') as Plain<k8s.V1Deployment>;
const pod = deployment.spec!.template;
const container = pod.spec!.containers[0]!;
const podLabels = pod.metadata?.labels ?? {};
const selects = (matchLabels: Record<string, string> | undefined) =>
  Object.keys(matchLabels ?? {}).length > 0 &&
  Object.entries(matchLabels ?? {}).every(([key, value]) => podLabels[key] === value);
const envOf = (c: k8s.V1Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

describe('deploy/kubernetes manifests', () => {
  it.each(objects.map(({ file, doc }) => [`${file} ${doc.kind ?? '(no kind)'}`, doc] as const))(
    '%s has a known kind, its apiVersion and a name',
    (_, doc) => {
      expect(Object.keys(API_VERSIONS)).toContain(doc.kind);
      expect(doc.apiVersion).toBe(API_VERSIONS[doc.kind ?? '']);
      expect(doc.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      if (!CLUSTER_SCOPED.has(doc.kind ?? '')) expect(doc.metadata?.namespace).toBeTruthy();
    },
  );

  it('the kustomization applies every object but the example Secret, and generates the plans ConfigMap', () => {
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((file) => !['kustomization.yaml', 'secret.example.yaml'].includes(file)).sort(),
    );
    const generator = kustomization.configMapGenerator[0]!;
    const volume = pod.spec!.volumes!.find((v) => v.configMap !== undefined)!;
    expect(volume.configMap!.name).toBe(generator.name);
    expect(generator.namespace).toBe(deployment.metadata!.namespace);
    expect(container.image!.split(':')[0]).toBe(kustomization.images[0]!.name);
  });

  it('the plans it mounts validate without errors', () => {
    const texts = kustomization.configMapGenerator[0]!.files.map((file) => ({
      file,
      text: readFileSync(join(dir, file), 'utf8'),
    }));
    const set = validateManifestTexts(texts, defaultRegistry());
    expect(set.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(set.plans.size).toBeGreaterThan(0);
  });

  it('the starter plans roll back in the bot’s own cluster: kubernetes steps without kubeconfig or context', () => {
    const steps = kustomization.configMapGenerator[0]!.files.flatMap((file) =>
      YAML.parseAllDocuments(readFileSync(join(dir, file), 'utf8')).flatMap((document) => {
        const doc = document.toJS() as { spec?: { strategies?: Record<string, { steps?: unknown[] }> } };
        return Object.values(doc.spec?.strategies ?? {}).flatMap(
          (strategy) => (strategy.steps ?? []) as { uses: string; with?: Record<string, unknown> }[],
        );
      }),
    );
    const kubernetes = steps.filter((step) => step.uses === 'kubernetes');
    expect(kubernetes.length).toBeGreaterThan(0);
    for (const step of kubernetes) {
      expect(step.with).not.toHaveProperty('kubeconfig');
      expect(step.with).not.toHaveProperty('context');
    }
  });

  it('mounts the kubeconfig of other clusters from an optional Secret, read-only, as a folder; no KUBECONFIG', () => {
    const mount = container.volumeMounts!.find((m) => m.mountPath === '/etc/rollback-bot/kubeconfig')!;
    expect(mount).toMatchObject({ readOnly: true });
    // A subPath mount never sees a rotated Secret; the executor reads the file at every step.
    expect(mount.subPath).toBeUndefined();
    const volume = pod.spec!.volumes!.find((v) => v.name === mount.name)!;
    expect(volume.secret).toEqual({ secretName: 'rollback-bot-kubeconfig', optional: true });
    // Steps without `kubeconfig` must fall through to the pod's service account.
    expect(envOf(container)).not.toHaveProperty('KUBECONFIG');
  });

  it('runs 2 replicas in HTTP mode, plans from the ConfigMap at ROLLBACK_CONFIG, tokens from the Secret', () => {
    expect(deployment.spec!.replicas).toBe(2);
    expect(selects(deployment.spec!.selector.matchLabels)).toBe(true);
    const env = envOf(container);
    expect(env).not.toHaveProperty('SLACK_APP_TOKEN');
    expect(env['NODE_ENV']).toBe('production');
    const plans = container.volumeMounts!.find((m) => m.name === 'plans')!;
    expect(plans.mountPath).toBe(env['ROLLBACK_CONFIG']);
    expect(plans.readOnly).toBe(true);
    const secret = one('Secret') as Plain<k8s.V1Secret>;
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.metadata!.name } }]);
    expect(Object.keys(secret.stringData ?? {})).toEqual(
      expect.arrayContaining(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'REDIS_URL']),
    );
    expect(secret.stringData).not.toHaveProperty('SLACK_APP_TOKEN');
  });

  it('probes the routes the bot serves: readiness /readyz, liveness /healthz, on the container port', () => {
    const served = httpRoutes({ log: silentLogger } as unknown as RouteDependencies).map(
      (route) => route.path,
    );
    const readiness = container.readinessProbe!.httpGet!;
    const liveness = container.livenessProbe!.httpGet!;
    expect(readiness.path).toBe('/readyz');
    expect(liveness.path).toBe('/healthz');
    expect(served).toEqual(expect.arrayContaining([readiness.path, liveness.path]));
    const port = container.ports![0]!;
    expect([readiness.port, liveness.port]).toEqual([port.name, port.name]);
    expect(Number(envOf(container)['PORT'])).toBe(port.containerPort);
  });

  it('sets resources and runs as non-root without privileges', () => {
    expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(container.resources?.limits?.['memory']).toMatch(/^\d+[MG]i$/);
    expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('a Service and a PodDisruptionBudget select the pods', () => {
    const service = one('Service') as Plain<k8s.V1Service>;
    expect(selects(service.spec!.selector)).toBe(true);
    expect(service.spec!.ports![0]!.targetPort).toBe(container.ports![0]!.name);
    const pdb = one('PodDisruptionBudget') as Plain<k8s.V1PodDisruptionBudget>;
    expect(selects(pdb.spec!.selector?.matchLabels)).toBe(true);
    expect(pdb.spec!.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec!.minAvailable).toBeLessThan(deployment.spec!.replicas!);
  });

  it("the pods' ServiceAccount is bound to a ClusterRole granting exactly the executor's permissions", () => {
    const account = one('ServiceAccount') as Plain<k8s.V1ServiceAccount>;
    expect(pod.spec!.serviceAccountName).toBe(account.metadata!.name);
    expect(pod.spec!.automountServiceAccountToken).toBe(true);
    const role = one('ClusterRole') as Plain<k8s.V1ClusterRole>;
    const granted = (role.rules ?? []).flatMap((rule) =>
      (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).flatMap((resource) =>
          rule.verbs.map((verb) => `${group} ${resource} ${verb}`),
        ),
      ),
    );
    const needed = KUBERNETES_PERMISSIONS.flatMap((p) =>
      p.verbs.map((verb) => `${p.apiGroup} ${p.resource} ${verb}`),
    );
    expect([...granted].sort()).toEqual([...needed].sort());
    expect(new Set(granted).size).toBe(granted.length);
    const binding = one('RoleBinding') as Plain<k8s.V1RoleBinding>;
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: role.metadata!.name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: account.metadata!.name, namespace: account.metadata!.namespace },
    ]);
  });
});
