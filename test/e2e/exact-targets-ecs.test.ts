/**
 * Exact rollback targets on ECS through the whole bot, against the local ECS API reached through
 * AWS_ENDPOINT_URL_ECS (the SDK's own serialisation, signing and retries run): the card names the
 * task definitions before approval, a failed rollout retried goes to the same recorded task
 * definition (never the one before it), and a deploy between card and click is refused.
 */
import { writePlanFile } from '../support/plan-files.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultRegistry } from '../../src/executors/default-registry.js';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { checkoutOn } from '../support/ecs-fixtures.js';
import type { FakeEcs } from '../support/fake-ecs-api.js';

let run: { h: BotHarness; ecs: FakeEcs } | undefined;
afterEach(async () => {
  await run?.h.stop();
  await run?.ecs.close();
  vi.unstubAllEnvs();
  run = undefined;
});

function planFile(): string {
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
  defaultStrategy: previous
  strategies:
    previous:
      steps:
        - name: Previous task definition
          uses: ecs
          with: { cluster: prod, service: checkout-svc, region: eu-west-1, timeout: 5s }
      validate: []
      stabilize: 0s
`,
  );
}

async function start(): Promise<{ h: BotHarness; ecs: FakeEcs }> {
  const ecs = await checkoutOn(43);
  // The bot's registry, its ECS executor polling fast (the default waits 5 s between reads).
  const h = await startBotHarness({
    planFile: planFile(),
    registry: defaultRegistry({ ecs: { pollIntervalMs: 20 } }),
  });
  return (run = { h, ecs });
}

async function declare(h: BotHarness): Promise<string> {
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: 'checkout --env production --reason "errors after v1.6.0"',
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0];
  if (!id) throw new Error(JSON.stringify(command.responses));
  return id;
}

const cardText = (h: BotHarness, id: string): string =>
  JSON.stringify(h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))?.blocks ?? '');
const updatedTo = (ecs: FakeEcs) => ecs.calls('UpdateService').map((body) => body['taskDefinition']);
const stateOf = async (h: BotHarness, id: string) => (await h.bot.reads.view(id))?.state;

describe('exact rollback targets (local ECS API)', () => {
  it('names the task definitions before approval; a failed rollout retried goes to the same one', async () => {
    const { h, ecs } = await start();
    const id = await declare(h);
    const card = await eventually(
      () => cardText(h, id),
      (text) => text.includes('ecs service prod/checkout-svc'),
    );
    expect(card).toContain('revision checkout:43');
    expect(card).toContain('→ revision checkout:42');
    expect(ecs.calls('UpdateService')).toEqual([]);
    expect(await h.bot.reads.view(id)).toMatchObject({ fromVersion: 'v1.6.0', toVersion: 'v1.5.0' });

    ecs.rollouts.push({ outcome: 'fail', afterReads: 1 });
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      async () => (await h.bot.reads.view(id))?.steps[0]?.status,
      (status) => status === 'failed',
      15_000,
    );
    await eventually(
      () => cardText(h, id),
      (text) => text.includes('rollback:retry-step'),
    );
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:retry-step', value: forRollback(id) });
    await eventually(
      () => stateOf(h, id),
      (state) => state === 'resolved',
      15_000,
    );
    const target = ecs.arn('checkout:42');
    expect(updatedTo(ecs)).toEqual([target, target]);
    expect(ecs.runningTaskDefinition('prod', 'checkout-svc')).toBe(target);
  }, 60_000);

  it('a deploy between the card and the click is refused and the card shows the new target', async () => {
    const { h, ecs } = await start();
    const id = await declare(h);
    await eventually(
      () => cardText(h, id),
      (text) => text.includes('→ revision checkout:42'),
    );
    ecs.deployElsewhere('prod', 'checkout-svc', 'checkout:41');
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () =>
        h.sim
          .ephemerals({ user: PEOPLE.oncall })
          .map((e) => e.text)
          .join('\n'),
      (text) => /different now/.test(text),
    );
    expect(await stateOf(h, id)).toBe('declared');
    expect(ecs.calls('UpdateService')).toEqual([]);
    await eventually(
      () => cardText(h, id),
      (text) => text.includes('revision checkout:41'),
    );
  }, 60_000);
});
