import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepResult } from '../../../src/executors/executor.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';
import { createKubernetesExecutor } from '../../../src/executors/kubernetes/index.js';
import { startFakeKubeApi, type FakeKubeApi, type FakeKubeOptions } from '../../support/fake-kube-api.js';
import { stepContext } from '../../support/http-peer.js';

let api: FakeKubeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** checkout/api with revisions 5, 6, 7 (7 current), and a canary ReplicaSet of revision 4 it does not own. */
async function cluster(options: FakeKubeOptions = {}): Promise<FakeKubeApi> {
  api = await startFakeKubeApi(options);
  api.addDeployment({
    namespace: 'checkout',
    name: 'api',
    replicas: 3,
    revisions: [
      { revision: 5, image: 'app:v1.4.0' },
      { revision: 6, image: 'app:v1.4.1' },
      { revision: 7, image: 'app:v1.5.0' },
    ],
  });
  api.addForeignReplicaSet('checkout', 'api', 4, 'app:v1.3.9');
  return api;
}

async function run(
  fake: FakeKubeApi,
  params: Record<string, unknown>,
  signal?: AbortSignal,
  timeoutMs?: number,
) {
  const executor = createKubernetesExecutor(() => fake.kubeConfig());
  const { ctx, lines } = stepContext(signal, timeoutMs);
  const parsed = executor.params.parse({
    kind: 'Deployment',
    namespace: 'checkout',
    name: 'api',
    pollInterval: '10ms',
    ...params,
  });
  const result = await executor.run(ctx, parsed);
  return { result, lines };
}

const image = (fake: FakeKubeApi) =>
  fake.deployments.get('checkout/api')!.spec.template.spec.containers[0]!.image;
const revisionOfRs = (fake: FakeKubeApi, img: string) =>
  fake.replicaSets.find(
    (rs) => rs.spec.template.spec.containers[0]!.image === img && !rs.metadata.name.includes('canary'),
  )!.metadata.annotations['deployment.kubernetes.io/revision'];

/** The error of a failed step (the test fails on any other outcome). */
function errorOf(result: StepResult): string {
  if (result.outcome !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

describe('kubernetes executor: Deployment rollout undo (fake API server)', () => {
  it('rolls back to the previous revision and waits for the rollout, logging each phase', async () => {
    const fake = await cluster();
    const { result, lines } = await run(fake, {});
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { fromRevision: 7, toRevision: 6, images: ['app:v1.4.1'], revision: 8, changed: true },
      summary: 'deployment checkout/api rolled back from revision 7 to revision 6 (app:v1.4.1)',
    });
    expect(lines).toEqual([
      'current revision 7 → rolling back to revision 6 (image app:v1.4.1)',
      'template of revision 6 applied (generation 8); waiting for the rollout',
      'rollout: waiting for the controller to observe generation 8',
      'rollout: 1/3 updated, 0/3 available',
      'rollout: 2/3 updated, 1/3 available',
      'rollout: 3/3 updated, 2/3 available, 1 old replica(s) terminating',
      'rollout: 3/3 updated, 3/3 available: rollout complete',
    ]);
    expect(image(fake)).toBe('app:v1.4.1');
    // As the real controller does: the reused ReplicaSet takes the next revision.
    expect(revisionOfRs(fake, 'app:v1.4.1')).toBe('8');
    expect(fake.requests.map((r) => `${r.method} ${r.path}`).slice(0, 3)).toEqual([
      'GET /apis/apps/v1/namespaces/checkout/deployments/api',
      'GET /apis/apps/v1/namespaces/checkout/replicasets?labelSelector=app%3Dapi',
      'PATCH /apis/apps/v1/namespaces/checkout/deployments/api',
    ]);
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${fake.token}`)).toBe(true);
  });

  it('sends a JSON Patch whose template is exactly the old ReplicaSet template minus pod-template-hash', async () => {
    const fake = await cluster();
    const before = structuredClone(fake.deployments.get('checkout/api')!);
    const old = structuredClone(
      fake.replicaSets.find(
        (rs) =>
          rs.spec.template.spec.containers[0]!.image === 'app:v1.4.0' && !rs.metadata.name.includes('canary'),
      )!,
    );
    const { result } = await run(fake, { toRevision: 5 });
    expect(result).toMatchObject({ outcome: 'succeeded', output: { fromRevision: 7, toRevision: 5 } });
    const patch = fake.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.headers['content-type']).toBe('application/json-patch+json');
    const expectedTemplate = structuredClone(old.spec.template);
    delete expectedTemplate.metadata.labels['pod-template-hash'];
    expect(expectedTemplate.metadata.labels).toEqual({ app: 'api' });
    expect(JSON.parse(patch.body)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: before.metadata.resourceVersion },
      { op: 'replace', path: '/spec/template', value: expectedTemplate },
      {
        op: 'add',
        path: '/metadata/annotations/kubernetes.io~1change-cause',
        value: 'rollback-bot: rollback rb-1 of checkout to revision 5',
      },
    ]);
    expect(fake.deployments.get('checkout/api')!.metadata.annotations).toMatchObject({
      'kubernetes.io/change-cause': 'rollback-bot: rollback rb-1 of checkout to revision 5',
      'deployment.kubernetes.io/revision': '8',
    });
  });

  it('fails plainly on a revision the Deployment does not have (a ReplicaSet it does not own does not count)', async () => {
    const fake = await cluster();
    const { result } = await run(fake, { toRevision: 4 });
    expect(result).toEqual({
      outcome: 'failed',
      error: 'deployment checkout/api has no revision 4; revisions: 5, 6, 7',
    });
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('fails plainly when the Deployment does not exist', async () => {
    const fake = await cluster();
    const { result } = await run(fake, { name: 'web' });
    expect(result).toMatchObject({ outcome: 'failed', error: 'deployment checkout/web not found' });
  });

  it('fails with the API server status when the credentials are refused', async () => {
    api = await startFakeKubeApi();
    const fake = api;
    const executor = createKubernetesExecutor(() => fake.kubeConfig('wrong'));
    const { ctx } = stepContext();
    const result = await executor.run(
      ctx,
      executor.params.parse({ kind: 'Deployment', namespace: 'n', name: 'x' }),
    );
    expect(errorOf(result)).toMatch(
      /^read deployment n\/x failed: 401 Unauthorized: the API server refused the credentials$/,
    );
  });

  it('fails with the deadline reason when the rollout stalls', async () => {
    const fake = await cluster({ rollout: 'stall', stallAfterReads: 2 });
    const { result, lines } = await run(fake, {});
    expect(errorOf(result)).toMatch(
      /^deployment checkout\/api rollback to revision 6 exceeded its progress deadline of 600s \(ProgressDeadlineExceeded\): ReplicaSet "api-[0-9a-f]{10}" has timed out progressing\.$/,
    );
    expect(result).toMatchObject({ output: { fromRevision: 7, toRevision: 6, images: ['app:v1.4.1'] } });
    expect(lines.slice(2)).toEqual([
      'rollout: waiting for the controller to observe generation 8',
      'rollout: 1/3 updated, 2/3 available',
      expect.stringMatching(/^rollout stalled: exceeded its progress deadline of 600s/),
    ]);
  });

  it("stops at the step's time limit when the rollout never progresses", async () => {
    const fake = await cluster({ rollout: 'never' });
    const started = performance.now();
    const { result } = await run(fake, { timeout: '300ms' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result).toEqual({
      outcome: 'failed',
      error:
        "deployment checkout/api rollback to revision 6 did not finish within the step's time limit of 300ms",
      output: { fromRevision: 7, toRevision: 6, images: ['app:v1.4.1'] },
    });
  });

  it('stops promptly when aborted mid-wait, even with a request in flight', async () => {
    const fake = await cluster({ hangReadsAfterPatch: true });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 200);
    const started = performance.now();
    const { result } = await run(fake, {}, controller.signal);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({
      outcome: 'failed',
      error:
        'deployment checkout/api rollback to revision 6 was stopped (rollback cancelled or bot shutting down)',
    });
  });

  it('aborts between polls too', async () => {
    const fake = await cluster({ rollout: 'never' });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 150);
    const { result } = await run(fake, { pollInterval: '50ms' }, controller.signal);
    expect(errorOf(result)).toBe(
      'deployment checkout/api rollback to revision 6 was stopped (rollback cancelled or bot shutting down)',
    );
  });

  it('fails when the Deployment changed between the read and the patch (resourceVersion test)', async () => {
    const fake = await cluster();
    // Another writer bumps the resourceVersion right after our read.
    const deployment = fake.deployments.get('checkout/api')!;
    const original = fake.requests.push.bind(fake.requests);
    fake.requests.push = (...items) => {
      if (items[0]?.path.includes('replicasets')) deployment.metadata.resourceVersion = '999999';
      return original(...items);
    };
    const { result } = await run(fake, {});
    expect(errorOf(result)).toMatch(
      /^patch deployment checkout\/api failed: 422 Invalid: .*testing value \/metadata\/resourceVersion failed$/,
    );
    expect(fake.deployments.get('checkout/api')!.spec.template.spec.containers[0]!.image).toBe('app:v1.5.0');
  });

  it('refuses action: abort on anything but a Rollout', async () => {
    const fake = await cluster();
    const { result } = await run(fake, { action: 'abort' });
    expect(result).toEqual({
      outcome: 'failed',
      error: 'action: abort applies to kind: Rollout only, not Deployment',
    });
    expect(fake.requests).toEqual([]);
  });

  it('names the contexts when the requested one is missing', async () => {
    const fake = await cluster();
    const { result } = await run(fake, { context: 'prod' });
    expect(result).toEqual({ outcome: 'failed', error: 'kubeconfig has no context "prod"; contexts: fake' });
  });

  it('refuses a paused Deployment without patching it', async () => {
    const fake = await cluster();
    fake.deployments.get('checkout/api')!.spec.paused = true;
    const { result } = await run(fake, {});
    expect(result).toEqual({
      outcome: 'failed',
      error: 'deployment checkout/api is paused: resume it before rolling it back',
    });
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('succeeds without a patch when the Deployment already runs the target revision', async () => {
    const fake = await cluster();
    const { result } = await run(fake, { toRevision: 7 });
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { fromRevision: 7, toRevision: 7, images: ['app:v1.5.0'], changed: false },
      summary: 'deployment checkout/api already on revision 7 (app:v1.5.0): nothing to roll back',
    });
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('loads a kubeconfig file and its named context with the default loader', async () => {
    const fake = await cluster();
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    try {
      const file = join(dir, 'config');
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          `- name: fake\n  cluster: { server: '${fake.url}', insecure-skip-tls-verify: true }`,
          "- name: elsewhere\n  cluster: { server: 'http://127.0.0.1:9' }",
          'users:',
          `- name: bot\n  user: { token: ${fake.token} }`,
          'contexts:',
          '- name: staging\n  context: { cluster: fake, user: bot }',
          '- name: production\n  context: { cluster: elsewhere, user: bot }',
          'current-context: production',
          '',
        ].join('\n'),
      );
      const executor = createKubernetesExecutor();
      const { ctx } = stepContext();
      const params = { kind: 'Deployment', namespace: 'checkout', name: 'api', pollInterval: '10ms' };
      const result = await executor.run(
        ctx,
        executor.params.parse({ ...params, kubeconfig: file, context: 'staging' }),
      );
      expect(result).toMatchObject({ outcome: 'succeeded', output: { fromRevision: 7, toRevision: 6 } });
      const missing = await executor.run(
        ctx,
        executor.params.parse({ ...params, kubeconfig: join(dir, 'absent') }),
      );
      expect(errorOf(missing)).toMatch(/^cannot load the kubeconfig .*absent: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad parameters are caught by validate', () => {
    const problems = defaultRegistry()
      .validateParams('kubernetes', { kind: 'Deployment', namespace: 'checkout' })
      .map((p) => `${p.path.join('.')}: ${p.message}`);
    expect(problems).toEqual(['name: is required']);
  });
});

/** checkout/api as an Argo Rollout with revisions 5, 6, 7 (7 current; `midway`: 7 is a paused canary, 6 stable). */
async function argo(options: FakeKubeOptions = {}, midway = false): Promise<FakeKubeApi> {
  api = await startFakeKubeApi(options);
  api.addRollout({
    namespace: 'checkout',
    name: 'api',
    replicas: 3,
    midway,
    revisions: [
      { revision: 5, image: 'app:v1.4.0' },
      { revision: 6, image: 'app:v1.4.1' },
      { revision: 7, image: 'app:v1.5.0' },
    ],
  });
  api.addForeignReplicaSet('checkout', 'api', 4, 'app:v1.3.9');
  return api;
}

const ROLLOUT_PATH = '/apis/argoproj.io/v1alpha1/namespaces/checkout/rollouts/api';
const rolloutImage = (fake: FakeKubeApi) =>
  fake.rollouts.get('checkout/api')!.spec.template.spec.containers[0]!.image;
const argoTemplate = (fake: FakeKubeApi, img: string) => {
  const rs = fake.replicaSets.find(
    (r) =>
      r.metadata.ownerReferences?.[0]?.kind === 'Rollout' &&
      r.spec.template.spec.containers[0]!.image === img,
  )!;
  const template = structuredClone(rs.spec.template);
  delete template.metadata.labels['rollouts-pod-template-hash'];
  return template;
};

describe('kubernetes executor: Argo Rollout abort and undo (fake API server)', () => {
  it('undoes a Healthy Rollout to the previous revision with a guarded JSON Patch and waits for Healthy', async () => {
    const fake = await argo();
    const before = structuredClone(fake.rollouts.get('checkout/api')!);
    const { result, lines } = await run(fake, { kind: 'Rollout' });
    expect(result).toEqual({
      outcome: 'succeeded',
      output: {
        fromRevision: 7,
        toRevision: 6,
        images: ['app:v1.4.1'],
        revision: 8,
        aborted: false,
        changed: true,
      },
      summary: 'rollout checkout/api rolled back from revision 7 to revision 6 (app:v1.4.1)',
    });
    expect(lines).toEqual([
      'current revision 7 → rolling back to revision 6 (image app:v1.4.1)',
      'template of revision 6 applied (generation 8); waiting for the rollout',
      'rollout: waiting for the controller to observe generation 8',
      'rollout: phase Progressing (more replicas need to be updated), 1/3 updated, 0/3 available',
      'rollout: phase Progressing (more replicas need to be updated), 2/3 updated, 1/3 available',
      'rollout: phase Progressing (more replicas need to be updated), 3/3 updated, 2/3 available',
      'rollout: phase Healthy, 3/3 updated, 3/3 available',
    ]);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`).slice(0, 3)).toEqual([
      `GET ${ROLLOUT_PATH}`,
      'GET /apis/apps/v1/namespaces/checkout/replicasets?labelSelector=app%3Dapi',
      `PATCH ${ROLLOUT_PATH}`,
    ]);
    const patch = fake.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.headers['content-type']).toBe('application/json-patch+json');
    expect(JSON.parse(patch.body)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: before.metadata.resourceVersion },
      { op: 'replace', path: '/spec/template', value: argoTemplate(fake, 'app:v1.4.1') },
      {
        op: 'add',
        path: '/metadata/annotations/kubernetes.io~1change-cause',
        value: 'rollback-bot: rollback rb-1 of checkout to revision 6',
      },
    ]);
    expect(rolloutImage(fake)).toBe('app:v1.4.1');
    expect(fake.rollouts.get('checkout/api')!.status.phase).toBe('Healthy');
  });

  it('aborts a canary paused mid-way first (merge patch on /status), then undoes to a named revision', async () => {
    const fake = await argo({}, true);
    const versionBefore = fake.rollouts.get('checkout/api')!.metadata.resourceVersion;
    const { result, lines } = await run(fake, { kind: 'Rollout', toRevision: 5 });
    expect(result).toMatchObject({
      outcome: 'succeeded',
      output: { fromRevision: 7, toRevision: 5, images: ['app:v1.4.0'], aborted: true, changed: true },
    });
    expect(lines.slice(0, 3)).toEqual([
      'aborting the update to revision 7 (phase Paused)',
      'current revision 7 → rolling back to revision 5 (image app:v1.4.0)',
      'template of revision 5 applied (generation 8); waiting for the rollout',
    ]);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`).slice(0, 4)).toEqual([
      `GET ${ROLLOUT_PATH}`,
      `PATCH ${ROLLOUT_PATH}/status`,
      'GET /apis/apps/v1/namespaces/checkout/replicasets?labelSelector=app%3Dapi',
      `PATCH ${ROLLOUT_PATH}`,
    ]);
    const [abort, undo] = fake.requests.filter((r) => r.method === 'PATCH');
    expect(abort!.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(abort!.body)).toEqual({ status: { abort: true } });
    // The undo is guarded by the resourceVersion the abort returned.
    const ops = JSON.parse(undo!.body) as { op: string; value: unknown }[];
    expect(ops[0]).toMatchObject({ op: 'test', path: '/metadata/resourceVersion' });
    expect(typeof ops[0]!.value).toBe('string');
    expect(ops[0]!.value).not.toBe(versionBefore);
    expect(ops[1]).toEqual({
      op: 'replace',
      path: '/spec/template',
      value: argoTemplate(fake, 'app:v1.4.0'),
    });
    const rollout = fake.rollouts.get('checkout/api')!;
    expect(rollout.status).toMatchObject({ phase: 'Healthy' });
    expect(rollout.status.abort).toBeUndefined();
    expect(rolloutImage(fake)).toBe('app:v1.4.0');
  });

  it('action: abort only aborts, and waits for RolloutAborted with the stable pods all available', async () => {
    const fake = await argo({}, true);
    const { result, lines } = await run(fake, { kind: 'Rollout', action: 'abort' });
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { fromRevision: 7, aborted: true, changed: true },
      summary: 'rollout checkout/api: update to revision 7 aborted, traffic back on the stable ReplicaSet',
    });
    expect(lines).toEqual([
      'aborting the update to revision 7 (phase Paused)',
      'abort: phase Degraded (RolloutAborted: Rollout aborted update to revision 7), 2/3 available',
      'abort: phase Degraded (RolloutAborted: Rollout aborted update to revision 7), 3/3 available',
    ]);
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => [r.path, r.headers['content-type'], JSON.parse(r.body) as unknown])).toEqual([
      [`${ROLLOUT_PATH}/status`, 'application/merge-patch+json', { status: { abort: true } }],
    ]);
    expect(rolloutImage(fake)).toBe('app:v1.5.0');
  });

  it('fails plainly on a revision the Rollout does not own', async () => {
    const fake = await argo();
    const { result } = await run(fake, { kind: 'Rollout', toRevision: 4 });
    expect(errorOf(result)).toBe('rollout checkout/api has no revision 4; revisions: 5, 6, 7');
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
    const missing = await run(fake, { kind: 'Rollout', name: 'web' });
    expect(errorOf(missing.result)).toBe('rollout checkout/web not found');
  });

  it('fails with the message when the Rollout goes Degraded', async () => {
    const fake = await argo({ rollout: 'stall', stallAfterReads: 2 });
    const { result, lines } = await run(fake, { kind: 'Rollout' });
    expect(errorOf(result)).toMatch(
      /^rollout checkout\/api rollback to revision 6 is Degraded: ProgressDeadlineExceeded: ReplicaSet "api-[0-9a-f]{10}" has timed out progressing\.$/,
    );
    expect(result).toMatchObject({ output: { fromRevision: 7, toRevision: 6, images: ['app:v1.4.1'] } });
    expect(lines.at(-1)).toMatch(/^rollout: phase Degraded \(ProgressDeadlineExceeded: /);
  });

  it('stops promptly when aborted mid-wait, with a read in flight', async () => {
    const fake = await argo({ hangReadsAfterPatch: true });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 200);
    const started = performance.now();
    const { result } = await run(fake, { kind: 'Rollout' }, controller.signal);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(errorOf(result)).toBe(
      'rollout checkout/api rollback to revision 6 was stopped (rollback cancelled or bot shutting down)',
    );
  });

  it("stops at the step's time limit naming the last state when the Rollout never progresses", async () => {
    const fake = await argo({ rollout: 'never' });
    const { result } = await run(fake, { kind: 'Rollout', timeout: '300ms' });
    expect(errorOf(result)).toBe(
      "rollout checkout/api rollback to revision 6 did not finish within the step's time limit of 300ms (last seen: rollout: phase Progressing (more replicas need to be updated), 0/3 updated, 3/3 available)",
    );
  });
});

const WORKLOAD_KINDS = [
  {
    kind: 'StatefulSet' as const,
    resource: 'statefulsets',
    progress: [
      'rollout: 1/3 updated, 0/3 ready',
      'rollout: 2/3 updated, 1/3 ready',
      'rollout: 3/3 updated, 2/3 ready',
      'rollout: 3/3 updated, 3/3 ready: rollout complete',
    ],
    stalled: 'rollout: 1/3 updated, 2/3 ready',
  },
  {
    kind: 'DaemonSet' as const,
    resource: 'daemonsets',
    progress: [
      'rollout: 1/3 nodes updated, 0/3 available',
      'rollout: 2/3 nodes updated, 1/3 available',
      'rollout: 3/3 nodes updated, 2/3 available',
      'rollout: 3/3 nodes updated, 3/3 available: rollout complete',
    ],
    stalled: 'rollout: 1/3 nodes updated, 2/3 available',
  },
];

describe.each(WORKLOAD_KINDS)(
  'kubernetes executor: $kind undo through ControllerRevisions (fake API server)',
  ({ kind, resource, progress, stalled }) => {
    const other = kind === 'StatefulSet' ? 'DaemonSet' : 'StatefulSet';
    const lower = kind.toLowerCase();
    const path = `/apis/apps/v1/namespaces/data/${resource}/db`;

    /** data/db of this kind with revisions 1, 2, 3 (3 current), and one of the other kind, same labels, owning revision 4. */
    async function workloads(options: FakeKubeOptions = {}): Promise<FakeKubeApi> {
      api = await startFakeKubeApi(options);
      const revisions = [
        { revision: 1, image: 'db:v1' },
        { revision: 2, image: 'db:v2' },
        { revision: 3, image: 'db:v3' },
      ];
      api.addWorkload({ kind, namespace: 'data', name: 'db', replicas: 3, revisions });
      api.addWorkload({
        kind: other,
        namespace: 'data',
        name: 'db',
        replicas: 3,
        revisions: [{ revision: 4, image: 'db:agent' }],
      });
      return api;
    }
    const runOn = (fake: FakeKubeApi, params: Record<string, unknown>, signal?: AbortSignal) =>
      run(fake, { kind, namespace: 'data', name: 'db', ...params }, signal);
    const workload = (fake: FakeKubeApi) => fake.workloads.get(`${kind}/data/db`)!;
    const revisionTemplate = (fake: FakeKubeApi, image: string) => {
      const cr = fake.controllerRevisions.find(
        (c) =>
          c.metadata.ownerReferences?.[0]?.kind === kind &&
          c.data.spec.template.spec.containers[0]!.image === image,
      )!;
      const { $patch, ...template } = structuredClone(cr.data.spec.template);
      expect($patch).toBe('replace');
      return { cr, template };
    };

    it('rolls back to the previous revision with a guarded JSON Patch and waits for completion', async () => {
      const fake = await workloads();
      const before = structuredClone(workload(fake));
      const { template, cr } = revisionTemplate(fake, 'db:v2');
      const { result, lines } = await runOn(fake, {});
      expect(result).toEqual({
        outcome: 'succeeded',
        output: { fromRevision: 3, toRevision: 2, images: ['db:v2'], changed: true },
        summary: `${lower} data/db rolled back from revision 3 to revision 2 (db:v2)`,
      });
      expect(lines).toEqual([
        'current revision 3 → rolling back to revision 2 (image db:v2)',
        'template of revision 2 applied (generation 4); waiting for the rollout',
        'rollout: waiting for the controller to observe generation 4',
        ...progress,
      ]);
      expect(fake.requests.map((r) => `${r.method} ${r.path}`).slice(0, 3)).toEqual([
        `GET ${path}`,
        'GET /apis/apps/v1/namespaces/data/controllerrevisions?labelSelector=app%3Ddb',
        `PATCH ${path}`,
      ]);
      const patch = fake.requests.find((r) => r.method === 'PATCH')!;
      expect(patch.headers['content-type']).toBe('application/json-patch+json');
      expect(JSON.parse(patch.body)).toEqual([
        { op: 'test', path: '/metadata/resourceVersion', value: before.metadata.resourceVersion },
        { op: 'replace', path: '/spec/template', value: template },
        {
          op: 'add',
          path: '/metadata/annotations/kubernetes.io~1change-cause',
          value: 'rollback-bot: rollback rb-1 of checkout to revision 2',
        },
      ]);
      expect(workload(fake).spec.template).toEqual(template);
      // As the real controllers do: the restored ControllerRevision takes the next number.
      expect(cr.revision).toBe(4);
      if (kind === 'StatefulSet') {
        expect(workload(fake).status).toMatchObject({
          currentRevision: cr.metadata.name,
          updateRevision: cr.metadata.name,
        });
      }
    });

    it('rolls back to a named revision', async () => {
      const fake = await workloads();
      const { result } = await runOn(fake, { toRevision: 1 });
      expect(result).toMatchObject({
        outcome: 'succeeded',
        output: { fromRevision: 3, toRevision: 1, images: ['db:v1'], changed: true },
      });
      expect(workload(fake).spec.template.spec.containers[0]!.image).toBe('db:v1');
    });

    it('fails plainly on an unknown revision (another owner’s ControllerRevision does not count)', async () => {
      const fake = await workloads();
      const { result } = await runOn(fake, { toRevision: 4 });
      expect(result).toEqual({
        outcome: 'failed',
        error: `${lower} data/db has no revision 4; revisions: 1, 2, 3`,
        output: { fromRevision: 3, toRevision: 4, images: [] },
      });
      expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
      const missing = await runOn(fake, { name: 'cache' });
      expect(errorOf(missing.result)).toBe(`${lower} data/cache not found`);
    });

    it('succeeds without a patch when it already runs the target revision', async () => {
      const fake = await workloads();
      const { result } = await runOn(fake, { toRevision: 3 });
      expect(result).toMatchObject({ outcome: 'succeeded', output: { changed: false } });
      expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
    });

    it("fails at the step's time limit naming where the rollout stalled", async () => {
      const fake = await workloads({ rollout: 'stall' });
      const { result } = await runOn(fake, { timeout: '300ms' });
      expect(result).toEqual({
        outcome: 'failed',
        error: `${lower} data/db rollback to revision 2 did not finish within the step's time limit of 300ms (last seen: ${stalled})`,
        output: { fromRevision: 3, toRevision: 2, images: ['db:v2'] },
      });
    });

    it('stops promptly when aborted mid-wait, with a read in flight', async () => {
      const fake = await workloads({ hangReadsAfterPatch: true });
      const controller = new AbortController();
      setTimeout(() => {
        controller.abort();
      }, 200);
      const started = performance.now();
      const { result } = await runOn(fake, {}, controller.signal);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(errorOf(result)).toBe(
        `${lower} data/db rollback to revision 2 was stopped (rollback cancelled or bot shutting down)`,
      );
    });
  },
);
