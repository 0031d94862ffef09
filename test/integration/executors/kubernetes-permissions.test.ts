/**
 * The RBAC rules of src/executors/kubernetes/permissions.ts are exactly the requests the executor
 * sends: every kind and action is resolved and run against the fake API server, each recorded
 * request is turned into the (API group, resource, verb) an RBAC authorizer would check, and the set
 * must equal the list. A new API call without a rule (a 403 on a real cluster) or a rule nothing
 * uses (a permission granted for nothing) fails here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKubernetesExecutor } from '../../../src/executors/kubernetes/index.js';
import { KUBERNETES_PERMISSIONS } from '../../../src/executors/kubernetes/permissions.js';
import { startFakeKubeApi, type FakeKubeApi } from '../../support/fake-kube-api.js';
import { stepContext } from '../../support/http-peer.js';

const fakes: FakeKubeApi[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

const REVISIONS = [
  { revision: 1, image: 'app:v1' },
  { revision: 2, image: 'app:v2' },
  { revision: 3, image: 'app:v3' },
];

/** What the authorizer checks for one request, as `group resource verb` (`apps deployments get`). */
function permissionOf(method: string, path: string): string {
  const url = new URL(path, 'http://api');
  const match =
    /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(
      url.pathname,
    );
  if (match === null) return `(not a namespaced resource) ${method} ${url.pathname}`;
  const [, group = '', resource, name, subresource] = match;
  const verbs: Record<string, string> = {
    GET: name === undefined ? (url.searchParams.has('watch') ? 'watch' : 'list') : 'get',
    PATCH: 'patch',
    PUT: 'update',
    POST: 'create',
    DELETE: name === undefined ? 'deletecollection' : 'delete',
  };
  const what = subresource === undefined ? resource : `${resource}/${subresource}`;
  return `${group} ${what} ${verbs[method] ?? method.toLowerCase()}`;
}

/** Resolves, then runs, one step against a fresh fake holding the workload `seed` adds. */
async function exercise(
  params: Record<string, unknown>,
  seed: (fake: FakeKubeApi) => void,
): Promise<string[]> {
  const fake = await startFakeKubeApi();
  fakes.push(fake);
  seed(fake);
  const executor = createKubernetesExecutor(() => fake.kubeConfig());
  const parsed = executor.params.parse({ namespace: 'shop', name: 'api', pollInterval: '5ms', ...params });
  const { ctx } = stepContext();
  const resolution = await executor.resolve!(
    { signal: ctx.signal, toVersion: null, rollback: ctx.rollback },
    parsed,
  );
  expect(resolution.ok, JSON.stringify(resolution)).toBe(true);
  const result = await executor.run(resolution.ok ? { ...ctx, target: resolution.target } : ctx, parsed);
  expect(result.outcome, JSON.stringify(result)).toBe('succeeded');
  return fake.requests.map((request) => permissionOf(request.method, request.path));
}

describe('kubernetes executor permissions', () => {
  it('are exactly the API calls it makes, for every kind and action', async () => {
    const seen = new Set<string>([
      ...(await exercise({ kind: 'Deployment' }, (fake) => {
        fake.addDeployment({ namespace: 'shop', name: 'api', replicas: 2, revisions: REVISIONS });
      })),
      ...(await exercise({ kind: 'StatefulSet' }, (fake) => {
        fake.addWorkload({
          kind: 'StatefulSet',
          namespace: 'shop',
          name: 'api',
          replicas: 2,
          revisions: REVISIONS,
        });
      })),
      ...(await exercise({ kind: 'DaemonSet' }, (fake) => {
        fake.addWorkload({
          kind: 'DaemonSet',
          namespace: 'shop',
          name: 'api',
          replicas: 2,
          revisions: REVISIONS,
        });
      })),
      // A canary paused mid-way: undo aborts it first (the status subresource), then patches the template.
      ...(await exercise({ kind: 'Rollout', action: 'undo' }, (fake) => {
        fake.addRollout({ namespace: 'shop', name: 'api', replicas: 2, revisions: REVISIONS, midway: true });
      })),
      ...(await exercise({ kind: 'Rollout', action: 'abort' }, (fake) => {
        fake.addRollout({ namespace: 'shop', name: 'api', replicas: 2, revisions: REVISIONS, midway: true });
      })),
    ]);
    const granted = KUBERNETES_PERMISSIONS.flatMap((rule) =>
      rule.verbs.map((verb) => `${rule.apiGroup} ${rule.resource} ${verb}`),
    );
    expect([...seen].sort()).toEqual([...granted].sort());
  });
});
