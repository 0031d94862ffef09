/**
 * The kubernetes executor's own credential loading, as deploy/kubernetes/ runs it: in a pod, with no
 * kubeconfig, it reaches the API server the kubelet names (KUBERNETES_SERVICE_HOST/PORT) over TLS
 * verified with the mounted CA, with the service account token as bearer, re-read as it rotates.
 * The fake API server speaks https with a test certificate; the service account folder is a
 * temporary one holding the token, that certificate as ca.crt and the namespace. Also: a kubeconfig
 * (step, KUBECONFIG, ~/.kube/config) comes first, and finding nothing fails with where it looked.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepResult } from '../../../src/executors/executor.js';
import { kubeConfigLoader, type KubeCredentialSources } from '../../../src/executors/kubernetes/client.js';
import { createKubernetesExecutor } from '../../../src/executors/kubernetes/index.js';
import { startFakeKubeApi, type FakeKubeApi } from '../../support/fake-kube-api.js';
import { stepContext } from '../../support/http-peer.js';

const fixtures = join(import.meta.dirname, '../../fixtures/tls');
const tls = {
  key: readFileSync(join(fixtures, 'kube-api.key'), 'utf8'),
  cert: readFileSync(join(fixtures, 'kube-api.crt'), 'utf8'),
};

let api: FakeKubeApi | undefined;
let dir: string;
let serviceAccountDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'in-cluster-'));
  serviceAccountDir = join(dir, 'serviceaccount');
  mkdirSync(serviceAccountDir);
});
afterEach(async () => {
  await api?.close();
  api = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** checkout/api on revisions 6 and 7 (7 current) behind an https API server. */
async function cluster(): Promise<FakeKubeApi> {
  api = await startFakeKubeApi({ tls, token: 'sa-token-1' });
  api.addDeployment({
    namespace: 'checkout',
    name: 'api',
    replicas: 2,
    revisions: [
      { revision: 6, image: 'app:v1.4.1' },
      { revision: 7, image: 'app:v1.5.0' },
    ],
  });
  return api;
}

/** The folder the kubelet mounts: token, ca.crt, namespace. */
function mountServiceAccount(token: string, ca = tls.cert): void {
  writeFileSync(join(serviceAccountDir, 'token'), token);
  writeFileSync(join(serviceAccountDir, 'ca.crt'), ca);
  writeFileSync(join(serviceAccountDir, 'namespace'), 'rollback-bot');
}

/** What a pod's environment has: the API server's Service address. */
const podEnv = (fake: FakeKubeApi) => ({
  KUBERNETES_SERVICE_HOST: '127.0.0.1',
  KUBERNETES_SERVICE_PORT: new URL(fake.url).port,
  HOME: join(dir, 'home'),
});

async function rollBack(sources: KubeCredentialSources, params: Record<string, unknown> = {}) {
  const executor = createKubernetesExecutor(kubeConfigLoader({ serviceAccountDir, ...sources }));
  const { ctx } = stepContext();
  const parsed = executor.params.parse({
    kind: 'Deployment',
    namespace: 'checkout',
    name: 'api',
    pollInterval: '10ms',
    ...params,
  });
  return { executor, result: await executor.run(ctx, parsed), parsed };
}

function errorOf(result: StepResult): string {
  if (result.outcome !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

describe('kubernetes executor: credentials in a pod and from kubeconfig files', () => {
  it('in a pod without kubeconfig: https to KUBERNETES_SERVICE_HOST, CA verified, service account token', async () => {
    const fake = await cluster();
    mountServiceAccount('sa-token-1\n');
    const { result } = await rollBack({ env: podEnv(fake) });
    expect(result).toMatchObject({ outcome: 'succeeded', output: { fromRevision: 7, toRevision: 6 } });
    expect(fake.requests.length).toBeGreaterThan(2);
    for (const request of fake.requests) expect(request.headers.authorization).toBe('Bearer sa-token-1');
  });

  it('reads the token again for the next step: a rotated token is used without a restart', async () => {
    const fake = await cluster();
    mountServiceAccount('expired-token');
    const loader = kubeConfigLoader({ env: podEnv(fake), serviceAccountDir });
    const executor = createKubernetesExecutor(loader);
    const params = executor.params.parse({
      kind: 'Deployment',
      namespace: 'checkout',
      name: 'api',
      pollInterval: '10ms',
    });
    const refused = await executor.run(stepContext().ctx, params);
    expect(errorOf(refused)).toContain('401');
    mountServiceAccount('sa-token-1');
    const rotated = await executor.run(stepContext().ctx, params);
    expect(rotated).toMatchObject({ outcome: 'succeeded', output: { fromRevision: 7, toRevision: 6 } });
  });

  it('refuses an API server whose certificate the mounted CA did not sign', async () => {
    const fake = await cluster();
    mountServiceAccount('sa-token-1', readFileSync(join(fixtures, 'other.crt'), 'utf8'));
    const { result } = await rollBack({ env: podEnv(fake) });
    expect(errorOf(result)).toMatch(/certificate|self.signed|verify/i);
    expect(fake.requests).toEqual([]);
  });

  it('resolves in-cluster too, so the card names the target before approval', async () => {
    const fake = await cluster();
    mountServiceAccount('sa-token-1');
    const executor = createKubernetesExecutor(kubeConfigLoader({ env: podEnv(fake), serviceAccountDir }));
    const params = executor.params.parse({ kind: 'Deployment', namespace: 'checkout', name: 'api' });
    const resolution = await executor.resolve!(
      {
        signal: new AbortController().signal,
        toVersion: null,
        rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
      },
      params,
    );
    if (!resolution.ok) throw new Error(resolution.error);
    expect(resolution.target.object).toBe('deployment checkout/api');
    expect(resolution.target.target.revision).toBe('6');
  });

  it('a kubeconfig comes first: the step’s, else KUBECONFIG, else ~/.kube/config', async () => {
    const fake = await cluster();
    // A service account whose token the fake refuses: any request made with it fails.
    mountServiceAccount('not-this-one');
    const kubeconfig = (context: string) =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: fake\n  cluster: { server: '${fake.url}', certificate-authority: ${join(fixtures, 'kube-api.crt')} }`,
        'users:',
        `- name: bot\n  user: { token: ${fake.token} }`,
        'contexts:',
        `- name: ${context}\n  context: { cluster: fake, user: bot }`,
        `current-context: ${context}`,
        '',
      ].join('\n');
    const stepFile = join(dir, 'step-kubeconfig');
    writeFileSync(stepFile, kubeconfig('production'));
    const fromStep = await rollBack(
      { env: { ...podEnv(fake), KUBECONFIG: join(dir, 'absent') } },
      { kubeconfig: stepFile, context: 'production' },
    );
    expect(fromStep.result).toMatchObject({ outcome: 'succeeded' });

    const envFile = join(dir, 'env-kubeconfig');
    writeFileSync(envFile, kubeconfig('staging'));
    const fromEnv = await rollBack({ env: { ...podEnv(fake), KUBECONFIG: envFile } }, { context: 'staging' });
    expect(fromEnv.result).toMatchObject({ outcome: 'succeeded' });

    mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
    writeFileSync(join(dir, 'home', '.kube', 'config'), kubeconfig('home'));
    const fromHome = await rollBack({ env: podEnv(fake) }, { context: 'home' });
    expect(fromHome.result).toMatchObject({ outcome: 'succeeded' });
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${fake.token}`)).toBe(true);
  });

  it('without any credentials the step fails saying where it looked, never trying localhost:8080', async () => {
    const fake = await cluster();
    // A token but no KUBERNETES_SERVICE_HOST: not a pod; nothing in HOME either.
    mountServiceAccount('sa-token-1');
    const { result } = await rollBack({ env: { HOME: join(dir, 'home') } });
    expect(errorOf(result)).toBe(
      `cannot load the kubeconfig: no credentials found: no kubeconfig (with.kubeconfig, KUBECONFIG, ~/.kube/config) and no service account (KUBERNETES_SERVICE_HOST and ${join(serviceAccountDir, 'token')})`,
    );
    expect(fake.requests).toEqual([]);
  });

  it('in a pod, a context other than the in-cluster one is refused, naming it', async () => {
    const fake = await cluster();
    mountServiceAccount('sa-token-1');
    const { result } = await rollBack({ env: podEnv(fake) }, { context: 'production' });
    expect(errorOf(result)).toBe('kubeconfig has no context "production"; contexts: inClusterContext');
  });
});
