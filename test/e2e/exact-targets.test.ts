/**
 * Exact rollback targets through the whole bot: the card names what will change before anyone
 * approves, an approval is for that and nothing else, and every retry of a platform step converges
 * on the target recorded when it first started (never a new "previous" revision). Real Bolt, real
 * Redis, the Slack simulator, and the fake Kubernetes API over HTTP (it renumbers a reused
 * ReplicaSet to the next revision, as the controller does).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeButtonValue } from '../../src/slack/blocks/kit.js';
import {
  API_TOKEN,
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { writeKubeconfig, writePlanFile } from '../support/plan-files.js';
import { startFakeKubeApi, type FakeKubeApi, type PodTemplate } from '../support/fake-kube-api.js';

const REVISIONS = [
  { revision: 5, image: 'app:v1.3.0' },
  { revision: 6, image: 'app:v1.4.1' },
  { revision: 7, image: 'app:v1.5.0-BAD' },
];
const DEPLOYMENT = '/apis/apps/v1/namespaces/checkout/deployments/api';

interface Kind {
  kind: 'Deployment' | 'StatefulSet' | 'Rollout';
  object: string;
  path: string;
  seed: (kube: FakeKubeApi) => void;
  image: (kube: FakeKubeApi) => string | undefined;
  /** A StatefulSet has no progress deadline: its stalled rollout ends at the step's time limit. */
  timeout: string;
}

const KINDS: Kind[] = [
  {
    kind: 'Deployment',
    object: 'deployment checkout/api',
    path: DEPLOYMENT,
    seed: (kube) =>
      kube.addDeployment({ namespace: 'checkout', name: 'api', replicas: 3, revisions: REVISIONS }),
    image: (kube) => kube.deployments.get('checkout/api')?.spec.template.spec.containers[0]?.image,
    timeout: '3s',
  },
  {
    kind: 'StatefulSet',
    object: 'statefulset checkout/api',
    path: '/apis/apps/v1/namespaces/checkout/statefulsets/api',
    seed: (kube) =>
      kube.addWorkload({
        kind: 'StatefulSet',
        namespace: 'checkout',
        name: 'api',
        replicas: 3,
        revisions: REVISIONS,
      }),
    image: (kube) => kube.workloads.get('StatefulSet/checkout/api')?.spec.template.spec.containers[0]?.image,
    timeout: '500ms',
  },
  {
    kind: 'Rollout',
    object: 'rollout checkout/api',
    path: '/apis/argoproj.io/v1alpha1/namespaces/checkout/rollouts/api',
    seed: (kube) =>
      kube.addRollout({ namespace: 'checkout', name: 'api', replicas: 3, revisions: REVISIONS }),
    image: (kube) => kube.rollouts.get('checkout/api')?.spec.template.spec.containers[0]?.image,
    timeout: '3s',
  },
];
const [DEPLOYMENT_KIND] = KINDS as [Kind];

interface Run {
  h: BotHarness;
  kube: FakeKubeApi;
}
let run: Run | undefined;
afterEach(async () => {
  await run?.h.stop();
  await run?.kube.close();
  run = undefined;
});

function planFile(kube: FakeKubeApi, onFailure: string, kind: Kind): string {
  const kubeconfig = writeKubeconfig(kube);
  return writePlanFile(
    `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata: { name: checkout }
spec:
  service: checkout
  channel: ${CHANNEL}
  environments: [production]
  criticality: high
  rto: 15m
  authority: default
  defaultStrategy: undo
  strategies:
    undo:
      steps:
        - name: Roll back api
          uses: kubernetes
          onFailure: ${onFailure}
          with: { kind: ${kind.kind}, namespace: checkout, name: api, kubeconfig: '${kubeconfig}', pollInterval: 20ms, timeout: ${kind.timeout} }
      validate: []
      stabilize: 0s
`,
  );
}

async function start(
  options: { onFailure?: string; stall?: boolean; kind?: Kind; empty?: boolean } = {},
): Promise<Run> {
  const kind = options.kind ?? DEPLOYMENT_KIND;
  const kube = await startFakeKubeApi({ rollout: options.stall ? 'stall' : 'succeed', stallAfterReads: 1 });
  if (options.empty !== true) kind.seed(kube);
  const h = await startBotHarness({ planFile: planFile(kube, options.onFailure ?? 'ask', kind) });
  return (run = { h, kube });
}

async function declare(h: BotHarness, text: string): Promise<{ id?: string; answer: string }> {
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text,
    expectResponses: 1,
  });
  const answer = JSON.stringify(command.responses);
  return { id: /rb-[0-9a-f]+/.exec(answer)?.[0], answer };
}

const cardOf = (h: BotHarness, id: string) =>
  h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));

/** The images each template PATCH put in, in order. */
function patchedImages(kube: FakeKubeApi, path = DEPLOYMENT): string[] {
  return kube.requests
    .filter((r) => r.method === 'PATCH' && r.path === path)
    .flatMap((r) => JSON.parse(r.body) as { path: string; value?: PodTemplate }[])
    .filter((op) => op.path === '/spec/template')
    .map((op) => op.value!.spec.containers[0]!.image);
}

/** Someone deploys `image` by hand (kubectl set image), over HTTP. */
async function deployByHand(kube: FakeKubeApi, image: string): Promise<void> {
  const template = structuredClone(kube.deployments.get('checkout/api')!.spec.template);
  template.spec.containers[0]!.image = image;
  const response = await fetch(`${kube.url}${DEPLOYMENT}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${kube.token}`, 'content-type': 'application/json-patch+json' },
    body: JSON.stringify([{ op: 'replace', path: '/spec/template', value: template }]),
  });
  expect(response.status).toBe(200);
}

const image = (kube: FakeKubeApi): string | undefined =>
  kube.deployments.get('checkout/api')?.spec.template.spec.containers[0]?.image;

const stateOf = async (h: BotHarness, id: string) => (await h.bot.reads.view(id))?.state;

describe('exact rollback targets (fake Kubernetes API)', () => {
  it.each(KINDS)(
    '$kind: the card names the target; a stalled rollout retried converges on it, never on the bad revision',
    async (kind) => {
      const { h, kube } = await start({ stall: true, kind });
      // No deployment was ever posted by CI: the versions come from the platform.
      const { id } = await declare(h, 'checkout --env production --reason "5xx after 1.5.0"');
      expect(id).toBeDefined();
      const card = await eventually(() => cardOf(h, id!), Boolean);
      const cardText = JSON.stringify(card!.blocks);
      expect(cardText).toContain(`${kind.object}: revision 7 (app:v1.5.0-BAD) → revision 6 (app:v1.4.1)`);
      const view = await h.bot.reads.view(id!);
      expect(view).toMatchObject({ fromVersion: 'v1.5.0-BAD', toVersion: 'v1.4.1' });
      expect(kube.requests.filter((r) => r.method !== 'GET')).toEqual([]);

      await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id!) });
      await eventually(
        async () => (await h.bot.reads.view(id!))?.steps[0]?.status,
        (status) => status === 'failed',
        15_000,
      );
      expect(patchedImages(kube, kind.path)).toEqual(['app:v1.4.1']);
      // The pods become ready late; Retry must wait for the recorded target, not pick revision 7.
      kube.setRollout('succeed');
      await eventually(
        () => JSON.stringify(cardOf(h, id!)?.blocks),
        (blocks) => blocks.includes('rollback:retry-step'),
      );
      await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:retry-step', value: forRollback(id!) });
      await eventually(
        () => stateOf(h, id!),
        (state) => state === 'resolved',
        15_000,
      );
      expect(kind.image(kube)).toBe('app:v1.4.1');
      expect(patchedImages(kube, kind.path)).toEqual(['app:v1.4.1']);

      // The outcome is recorded: v1.4.1 is deployed, v1.5.0-BAD is frozen for CI.
      await eventually(
        async () => (await h.store.listDeployments('checkout', 'production', 1))[0]?.version,
        (version) => version === 'v1.4.1',
      );
      const freeze = await fetch(
        `http://127.0.0.1:${h.port}/api/freeze?service=checkout&environment=production&version=v1.5.0-BAD`,
        { headers: { authorization: `Bearer ${API_TOKEN}` } },
      );
      expect(await freeze.json()).toMatchObject({ frozen: true, rollbackId: id });
    },
    60_000,
  );

  it('onFailure: retry converges on the recorded target too', async () => {
    const { h, kube } = await start({ stall: true, onFailure: 'retry' });
    const { id } = await declare(h, 'checkout --env production');
    await eventually(() => cardOf(h, id!), Boolean);
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id!) });
    await eventually(
      async () => (await h.bot.reads.view(id!))?.steps[0]?.attempts ?? 0,
      (attempts) => attempts >= 2,
      15_000,
    );
    kube.setRollout('succeed');
    await eventually(
      () => stateOf(h, id!),
      (state) => state === 'resolved' || state === 'executing',
      15_000,
    );
    await eventually(
      async () => (await h.bot.reads.view(id!))?.steps[0]?.status,
      (status) => status === 'succeeded' || status === 'failed',
      15_000,
    );
    expect(patchedImages(kube)).toEqual(['app:v1.4.1']);
    expect(image(kube)).toBe('app:v1.4.1');
  }, 60_000);

  it('a deploy between the card and the click: the click is refused and the card shows the new target', async () => {
    const { h, kube } = await start();
    const { id } = await declare(h, 'checkout --env production');
    const digestOf = (card: ReturnType<typeof cardOf>) =>
      /\\"d\\":\\"([0-9a-f]+)\\"/.exec(JSON.stringify(card?.blocks ?? []))?.[1];
    const drawnWith = digestOf(await eventually(() => cardOf(h, id!), Boolean));
    expect(drawnWith).toBeDefined();
    await deployByHand(kube, 'app:v1.6.0');
    const patches = patchedImages(kube).length;
    const approve = await h.driver.click({
      user: PEOPLE.oncall,
      actionId: 'rollback:approve',
      value: forRollback(id!),
    });
    expect(approve.status).toBe(200);
    await eventually(
      () =>
        h.sim
          .ephemerals({ user: PEOPLE.oncall })
          .map((e) => e.text)
          .join('\n'),
      (text) => /different now/.test(text),
    );
    expect(await stateOf(h, id!)).toBe('declared');
    expect(patchedImages(kube)).toHaveLength(patches);
    // The card now shows what would run; its Approve names the new digest.
    const redrawn = await eventually(
      () => cardOf(h, id!),
      (card) => JSON.stringify(card?.blocks).includes('(app:v1.6.0) → revision'),
    );
    expect(digestOf(redrawn)).toBeDefined();
    expect(digestOf(redrawn)).not.toBe(drawnWith);
    // Approving what the card now shows works.
    await h.driver.click({
      user: PEOPLE.oncall,
      actionId: 'rollback:approve',
      value: (value) =>
        decodeButtonValue(value)?.rollbackId === id && decodeButtonValue(value)?.digest === digestOf(redrawn),
    });
    await eventually(
      () => stateOf(h, id!),
      (state) => state === 'resolved',
      15_000,
    );
  }, 60_000);

  it('--to a version two revisions back restores exactly it; an unknown one is refused with the list', async () => {
    const { h, kube } = await start();
    const refused = await declare(h, 'checkout --env production --to v9.9.9');
    expect(refused.id).toBeUndefined();
    expect(refused.answer).toContain('v1.4.1 (revision 6)');
    expect(refused.answer).toContain('v1.3.0 (revision 5)');
    expect(await h.bot.reads.list({ service: 'checkout' })).toEqual([]);

    const { id } = await declare(h, 'checkout --env production --to v1.3.0');
    const card = await eventually(() => cardOf(h, id!), Boolean);
    expect(JSON.stringify(card!.blocks)).toContain('→ revision 5 (app:v1.3.0)');
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id!) });
    await eventually(
      () => stateOf(h, id!),
      (state) => state === 'resolved',
      15_000,
    );
    expect(patchedImages(kube)).toEqual(['app:v1.3.0']);
    await eventually(
      async () => (await h.store.listDeployments('checkout', 'production', 1))[0]?.version,
      (version) => version === 'v1.3.0',
    );
  }, 60_000);

  it('a target that cannot be read blocks the rollback on the card until it can; then Approve reads it again', async () => {
    const { h, kube } = await start({ empty: true });
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.4.1',
      at: h.clock.now - 3_600_000,
    });
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.5.0-BAD',
      at: h.clock.now - 60_000,
    });
    const { id } = await declare(h, 'checkout --env production');
    const blocked = await eventually(() => cardOf(h, id!), Boolean);
    expect(JSON.stringify(blocked!.blocks)).toMatch(/Cannot run yet:.*deployment checkout\/api/);
    const ephemerals = () =>
      h.sim
        .ephemerals({ user: PEOPLE.oncall })
        .map((e) => e.text)
        .join('\n');
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id!) });
    await eventually(ephemerals, (text) => /cannot run yet/.test(text));
    expect(await stateOf(h, id!)).toBe('declared');

    DEPLOYMENT_KIND.seed(kube);
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id!) });
    await eventually(ephemerals, (text) => /different now/.test(text));
    await eventually(
      () => JSON.stringify(cardOf(h, id!)?.blocks),
      (text) =>
        text.includes('revision 7 (app:v1.5.0-BAD) → revision 6 (app:v1.4.1)') &&
        !text.includes('Cannot run yet'),
    );
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id!) });
    await eventually(
      () => stateOf(h, id!),
      (state) => state === 'resolved',
      15_000,
    );
    expect(patchedImages(kube)).toEqual(['app:v1.4.1']);
  }, 60_000);
});
