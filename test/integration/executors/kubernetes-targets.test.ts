/**
 * The incident this guards against: a Deployment at revision 7 (app:v1.5.0-BAD) was rolled back to
 * revision 6, the rollout stalled, Retry was pressed, and the executor chose "the revision before
 * the current one" again, which after the first patch is 7: the bad one. Here `resolve` names the
 * target once and every attempt given it (`ctx.target`) ends on that template or stops and asks.
 * Each test runs the executor against the fake API server over real HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolveContext, StepResult, StepTarget } from '../../../src/executors/executor.js';
import { createKubernetesExecutor } from '../../../src/executors/kubernetes/index.js';
import {
  startFakeKubeApi,
  type FakeKubeApi,
  type FakeKubeOptions,
  type PodTemplate,
} from '../../support/fake-kube-api.js';
import { stepContext } from '../../support/http-peer.js';

let api: FakeKubeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const REVISIONS = [
  { revision: 5, image: 'app:v1.3.0' },
  { revision: 6, image: 'app:v1.4.1' },
  { revision: 7, image: 'app:v1.5.0-BAD' },
];

interface Kind {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Rollout';
  object: string;
  path: string;
  seed: (fake: FakeKubeApi) => void;
  template: (fake: FakeKubeApi) => PodTemplate;
  /** The key each revision keeps in the pin, by image. */
  key: (fake: FakeKubeApi, image: string) => string;
  pinKeys: ['fromHash', 'toHash'] | ['fromName', 'toName'];
  pinExtra: Record<string, string>;
  /** The first attempt's failure once the rollout stalls. */
  stalled: RegExp;
  /**
   * Params of the attempt that stalls: a StatefulSet or DaemonSet has no progress deadline, so it
   * stalls until the step's time limit, kept short there. Other runs get the default limit: a 300 ms
   * one timed them out on a loaded machine.
   */
  stallParams: Record<string, unknown>;
}

const replicaSetKey = (label: string) => (fake: FakeKubeApi, image: string) =>
  fake.replicaSets.find(
    (rs) => rs.spec.template.spec.containers[0]!.image === image && !rs.metadata.name.includes('canary'),
  )!.metadata.labels![label]!;

const KINDS: Kind[] = [
  {
    kind: 'Deployment',
    object: 'deployment checkout/api',
    path: '/apis/apps/v1/namespaces/checkout/deployments/api',
    seed: (fake) => {
      fake.addDeployment({ namespace: 'checkout', name: 'api', replicas: 3, revisions: REVISIONS });
      fake.addForeignReplicaSet('checkout', 'api', 4, 'app:v1.2.0');
    },
    template: (fake) => fake.deployments.get('checkout/api')!.spec.template,
    key: replicaSetKey('pod-template-hash'),
    pinKeys: ['fromHash', 'toHash'],
    pinExtra: {},
    stalled:
      /^deployment checkout\/api rollback to revision 6 exceeded its progress deadline of 600s \(ProgressDeadlineExceeded\)/,
    stallParams: {},
  },
  {
    kind: 'StatefulSet',
    object: 'statefulset checkout/api',
    path: '/apis/apps/v1/namespaces/checkout/statefulsets/api',
    seed: (fake) => {
      fake.addWorkload({
        kind: 'StatefulSet',
        namespace: 'checkout',
        name: 'api',
        replicas: 3,
        revisions: REVISIONS,
      });
    },
    template: (fake) => fake.workloads.get('StatefulSet/checkout/api')!.spec.template,
    key: (fake, image) =>
      fake.controllerRevisions.find((cr) => cr.data.spec.template.spec.containers[0]!.image === image)!
        .metadata.name,
    pinKeys: ['fromName', 'toName'],
    pinExtra: {},
    stalled:
      /^statefulset checkout\/api rollback to revision 6 did not finish within the step's time limit of 300ms \(last seen: rollout: 1\/3 updated, 2\/3 ready\)$/,
    stallParams: { timeout: '300ms' },
  },
  {
    kind: 'DaemonSet',
    object: 'daemonset checkout/api',
    path: '/apis/apps/v1/namespaces/checkout/daemonsets/api',
    seed: (fake) => {
      fake.addWorkload({
        kind: 'DaemonSet',
        namespace: 'checkout',
        name: 'api',
        replicas: 3,
        revisions: REVISIONS,
      });
    },
    template: (fake) => fake.workloads.get('DaemonSet/checkout/api')!.spec.template,
    key: (fake, image) =>
      fake.controllerRevisions.find((cr) => cr.data.spec.template.spec.containers[0]!.image === image)!
        .metadata.name,
    pinKeys: ['fromName', 'toName'],
    pinExtra: {},
    stalled:
      /^daemonset checkout\/api rollback to revision 6 did not finish within the step's time limit of 300ms \(last seen: rollout: 1\/3 nodes updated, 2\/3 available\)$/,
    stallParams: { timeout: '300ms' },
  },
  {
    kind: 'Rollout',
    object: 'rollout checkout/api',
    path: '/apis/argoproj.io/v1alpha1/namespaces/checkout/rollouts/api',
    seed: (fake) => {
      fake.addRollout({ namespace: 'checkout', name: 'api', replicas: 3, revisions: REVISIONS });
      fake.addForeignReplicaSet('checkout', 'api', 4, 'app:v1.2.0');
    },
    template: (fake) => fake.rollouts.get('checkout/api')!.spec.template,
    key: replicaSetKey('rollouts-pod-template-hash'),
    pinKeys: ['fromHash', 'toHash'],
    pinExtra: { action: 'undo' },
    stalled:
      /^rollout checkout\/api rollback to revision 6 is Degraded: ProgressDeadlineExceeded: ReplicaSet "api-[0-9a-f]{10}" has timed out progressing\.$/,
    stallParams: {},
  },
];

function resolveContext(toVersion: string | null = null): ResolveContext {
  return {
    signal: new AbortController().signal,
    toVersion,
    rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
  };
}

/** The target of a resolve that must succeed. */
function targetOf(resolution: Awaited<ReturnType<typeof resolveOn>>): StepTarget {
  if (!resolution.ok) throw new Error(`expected a target, got ${resolution.error}`);
  return resolution.target;
}

function errorOf(result: StepResult): string {
  if (result.outcome !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

async function resolveOn(fake: FakeKubeApi, kind: Kind, toVersion: string | null = null, extra = {}) {
  const executor = createKubernetesExecutor(() => fake.kubeConfig());
  const params = executor.params.parse({ kind: kind.kind, namespace: 'checkout', name: 'api', ...extra });
  return executor.resolve!(resolveContext(toVersion), params);
}

async function runOn(fake: FakeKubeApi, kind: Kind, target: StepTarget | undefined, extra = {}) {
  const executor = createKubernetesExecutor(() => fake.kubeConfig());
  const { ctx, lines } = stepContext();
  const params = executor.params.parse({
    kind: kind.kind,
    namespace: 'checkout',
    name: 'api',
    pollInterval: '10ms',
    ...extra,
  });
  const result = await executor.run(target === undefined ? ctx : { ...ctx, target }, params);
  return { result, lines };
}

/** The images each template PATCH put in, in order. */
function patchedImages(fake: FakeKubeApi): string[] {
  return fake.requests
    .filter((r) => r.method === 'PATCH' && !r.path.endsWith('/status'))
    .flatMap((r) => JSON.parse(r.body) as { op: string; path: string; value?: PodTemplate }[])
    .filter((op) => op.path === '/spec/template')
    .map((op) => op.value!.spec.containers[0]!.image);
}

/** Someone else deploys `image` (a kubectl set image), over HTTP like any other client. */
async function deploy(fake: FakeKubeApi, kind: Kind, image: string): Promise<void> {
  const template = structuredClone(kind.template(fake));
  template.spec.containers[0]!.image = image;
  const response = await fetch(`${fake.url}${kind.path}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json-patch+json' },
    body: JSON.stringify([{ op: 'replace', path: '/spec/template', value: template }]),
  });
  expect(response.status).toBe(200);
}

async function cluster(kind: Kind, options: FakeKubeOptions = {}): Promise<FakeKubeApi> {
  api = await startFakeKubeApi(options);
  kind.seed(api);
  return api;
}

describe.each(KINDS)('kubernetes executor targets: $kind (fake API server)', (kind) => {
  const image = (fake: FakeKubeApi) => kind.template(fake).spec.containers[0]!.image;

  it('resolve names what runs and the exact target, and changes nothing', async () => {
    const fake = await cluster(kind);
    const before = JSON.stringify([fake.deployments, fake.rollouts, fake.workloads, fake.replicaSets]);
    const resolution = await resolveOn(fake, kind);
    const [fromKey, toKey] = kind.pinKeys;
    expect(resolution).toEqual({
      ok: true,
      target: {
        object: kind.object,
        current: { revision: '7', version: 'v1.5.0-BAD', images: ['app:v1.5.0-BAD'] },
        target: { revision: '6', version: 'v1.4.1', images: ['app:v1.4.1'] },
        pin: {
          ...kind.pinExtra,
          [fromKey]: kind.key(fake, 'app:v1.5.0-BAD'),
          [toKey]: kind.key(fake, 'app:v1.4.1'),
          fromRevision: 7,
          toRevision: 6,
        },
      },
    });
    expect(fake.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(JSON.stringify([fake.deployments, fake.rollouts, fake.workloads, fake.replicaSets])).toBe(before);
  });

  it('a stalled first attempt, then a retry with the same target: ends on the target, never on the bad revision', async () => {
    const fake = await cluster(kind, { rollout: 'stall', stallAfterReads: 2 });
    const target = targetOf(await resolveOn(fake, kind));

    const first = await runOn(fake, kind, target, kind.stallParams);
    expect(errorOf(first.result)).toMatch(kind.stalled);
    expect(image(fake)).toBe('app:v1.4.1');
    // The controller renumbered the restored revision: "the one before the current" is now 7, the bad one.
    expect(first.lines[0]).toBe('current revision 7 → rolling back to revision 6 (image app:v1.4.1)');

    fake.setRollout('succeed');
    // The stall is over: the retry gets room (a loaded machine must not time it out at 300 ms).
    const retry = await runOn(fake, kind, target, { timeout: '10s' });
    expect(retry.result).toMatchObject({
      outcome: 'succeeded',
      output: { fromRevision: 8, toRevision: 8, images: ['app:v1.4.1'], changed: false },
    });
    expect(retry.lines[0]).toBe(
      `${kind.object} already runs the target template (revision 8, app:v1.4.1): waiting for its rollout`,
    );
    expect(image(fake)).toBe('app:v1.4.1');
    expect(patchedImages(fake)).toEqual(['app:v1.4.1']);

    // Once more, as after a crash: still nothing to patch, never the bad template.
    const again = await runOn(fake, kind, target, { timeout: '10s' });
    expect(again.result).toMatchObject({ outcome: 'succeeded', output: { changed: false } });
    expect(patchedImages(fake)).toEqual(['app:v1.4.1']);
    expect(image(fake)).toBe('app:v1.4.1');
  });

  it('an attempt that finds the object still at its start patches to the pinned target', async () => {
    const fake = await cluster(kind);
    const target = targetOf(await resolveOn(fake, kind));
    const { result } = await runOn(fake, kind, target);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      output: { fromRevision: 7, toRevision: 6, images: ['app:v1.4.1'], changed: true },
    });
    expect(patchedImages(fake)).toEqual(['app:v1.4.1']);
    expect(image(fake)).toBe('app:v1.4.1');
  });

  it('a third template deployed between resolve and run is a conflict: nothing is patched', async () => {
    const fake = await cluster(kind);
    const target = targetOf(await resolveOn(fake, kind));
    await deploy(fake, kind, 'app:v1.6.0');
    const patchesBefore = fake.requests.filter((r) => r.method === 'PATCH').length;
    const { result } = await runOn(fake, kind, target);
    expect(result).toMatchObject({
      outcome: 'failed',
      conflict: true,
      error: `${kind.object} changed since the rollback was approved: it runs revision 8 (app:v1.6.0), neither revision 7 (start) nor the target (app:v1.4.1); nothing was changed`,
    });
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(patchesBefore);
    expect(image(fake)).toBe('app:v1.6.0');
  });

  it('--to two revisions back restores exactly that version', async () => {
    const fake = await cluster(kind);
    const target = targetOf(await resolveOn(fake, kind, 'v1.3.0'));
    expect(target.target).toEqual({ revision: '5', version: 'v1.3.0', images: ['app:v1.3.0'] });
    expect(target.pin).toMatchObject({ fromRevision: 7, toRevision: 5 });
    const { result } = await runOn(fake, kind, target);
    expect(result).toMatchObject({ outcome: 'succeeded', output: { toRevision: 5, changed: true } });
    expect(image(fake)).toBe('app:v1.3.0');
  });

  it('--to a version no revision runs is refused with the versions it can restore', async () => {
    const fake = await cluster(kind);
    expect(await resolveOn(fake, kind, 'v9.9.9')).toEqual({
      ok: false,
      error: `${kind.object} has no revision running v9.9.9; it can restore v1.4.1 (revision 6), v1.3.0 (revision 5)`,
      restorable: ['v1.4.1', 'v1.3.0'],
    });
    expect(await resolveOn(fake, kind, 'v1.4.2')).toEqual({
      ok: false,
      error: `${kind.object} has no revision running v1.4.2; it can restore v1.4.1 (revision 6), v1.3.0 (revision 5) (did you mean v1.4.1?)`,
      restorable: ['v1.4.1', 'v1.3.0'],
    });
    expect(fake.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('--to the version that already runs: current is the target, and run only waits', async () => {
    const fake = await cluster(kind);
    const target = targetOf(await resolveOn(fake, kind, 'v1.5.0-BAD'));
    expect(target.target).toEqual(target.current);
    const { result } = await runOn(fake, kind, target);
    expect(result).toMatchObject({ outcome: 'succeeded', output: { changed: false } });
    expect(patchedImages(fake)).toEqual([]);
  });

  it('toRevision wins over --to', async () => {
    const fake = await cluster(kind);
    const target = targetOf(await resolveOn(fake, kind, 'v1.3.0', { toRevision: 6 }));
    expect(target.target.revision).toBe('6');
  });

  it('the pinned target gone (history cleaned up) is a conflict, said plainly', async () => {
    const fake = await cluster(kind);
    const target = targetOf(await resolveOn(fake, kind));
    const toKey = String(target.pin[kind.pinKeys[1]]);
    const gone = (name: string) => name.endsWith(toKey);
    const history = kind.pinKeys[0] === 'fromName' ? 'ControllerRevision' : 'ReplicaSet';
    if (history === 'ControllerRevision') {
      fake.controllerRevisions.splice(
        fake.controllerRevisions.findIndex((cr) => gone(cr.metadata.name)),
        1,
      );
    } else {
      fake.replicaSets.splice(
        fake.replicaSets.findIndex((rs) => gone(rs.metadata.name)),
        1,
      );
    }
    const { result } = await runOn(fake, kind, target);
    expect(result).toEqual({
      outcome: 'failed',
      conflict: true,
      error: `${kind.object} no longer has the ${history} of the target revision 6 (${toKey}): it was removed since the rollback was approved; nothing was changed`,
      output: { fromRevision: 7, toRevision: undefined, images: [] },
    });
    expect(patchedImages(fake)).toEqual([]);
  });
});

describe('kubernetes executor targets: details', () => {
  it('the version is the tag of the container named by `container`, and an unknown one is refused', async () => {
    api = await startFakeKubeApi();
    const fake = api;
    KINDS[0]!.seed(fake);
    for (const rs of fake.replicaSets) {
      rs.spec.template.spec.containers.push({ name: 'proxy', image: 'registry:5000/envoy:1.30@sha256:abc' });
    }
    fake.deployments.get('checkout/api')!.spec.template.spec.containers.push({
      name: 'proxy',
      image: 'registry:5000/envoy:1.30@sha256:abc',
    });
    const resolved = targetOf(await resolveOn(fake, KINDS[0]!, null, { container: 'proxy' }));
    expect(resolved.current).toEqual({
      revision: '7',
      version: '1.30',
      images: ['app:v1.5.0-BAD', 'registry:5000/envoy:1.30@sha256:abc'],
    });
    expect(await resolveOn(fake, KINDS[0]!, null, { container: 'proxi' })).toEqual({
      ok: false,
      error: 'deployment checkout/api has no container "proxi"; containers: api, proxy (did you mean proxy?)',
    });
  });

  it('a Rollout abort resolves to the canary and the stable revision, and a retry after the canary moved on asks', async () => {
    api = await startFakeKubeApi();
    const fake = api;
    fake.addRollout({ namespace: 'checkout', name: 'api', replicas: 3, revisions: REVISIONS, midway: true });
    const rollout = KINDS.find((k) => k.kind === 'Rollout')!;
    const target = targetOf(await resolveOn(fake, rollout, null, { action: 'abort' }));
    expect(target).toMatchObject({
      object: 'rollout checkout/api',
      current: { revision: '7', version: 'v1.5.0-BAD' },
      target: { revision: '6', version: 'v1.4.1' },
      pin: { action: 'abort', fromRevision: 7, toRevision: 6 },
    });
    const { result } = await runOn(fake, rollout, target, { action: 'abort' });
    expect(result).toMatchObject({ outcome: 'succeeded', output: { aborted: true } });
    // Run as an undo with a target recorded for an abort: refused, not reinterpreted.
    expect(await runOn(fake, rollout, target)).toMatchObject({
      result: { outcome: 'failed', conflict: true },
    });
  });

  it('a recorded target of another shape is refused as a conflict without a change', async () => {
    api = await startFakeKubeApi();
    const fake = api;
    KINDS[0]!.seed(fake);
    const target = targetOf(await resolveOn(fake, KINDS[0]!));
    const { result } = await runOn(fake, KINDS[0]!, { ...target, pin: { fromName: 'x', toName: 'y' } });
    expect(result).toMatchObject({ outcome: 'failed', conflict: true });
    expect(errorOf(result)).toMatch(/^the recorded target of deployment checkout\/api is not one/);
    expect(patchedImages(fake)).toEqual([]);
  });
});
