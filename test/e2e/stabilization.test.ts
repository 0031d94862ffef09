/**
 * Stabilisation that watches, end to end: real Bolt, real Redis, a real health endpoint on
 * 127.0.0.1 checked by the healthcheck executor, real alert deliveries. A service whose health
 * turns 500 during the window, or whose alert fires again, is not called stable: the rollback does
 * not resolve, and the thread asks what to do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { alertmanagerPayload, postAlerts } from '../support/alert-payloads.js';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { startPeer, type HttpPeer } from '../support/http-peer.js';
import { writePlanFile } from '../support/plan-files.js';

let harness: BotHarness | undefined;
let peer: HttpPeer | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  await peer?.close();
  peer = undefined;
});

/** A health endpoint on 127.0.0.1 whose answer the test sets. */
async function healthEndpoint(): Promise<{ url: string; status: { code: number } }> {
  const status = { code: 200 };
  peer = await startPeer((_request, res) => {
    res.writeHead(status.code);
    res.end(status.code === 200 ? 'ok' : 'broken');
  });
  return { url: `${peer.url}/health`, status };
}

function plan(healthUrl: string, stabilize: string): string {
  return `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata: { name: checkout }
spec:
  service: checkout
  channel: ${CHANNEL}
  environments: [production]
  criticality: high
  rto: 15m
  authority: default
  defaultStrategy: switch
  strategies:
    switch:
      steps:
        - { name: Switch traffic, uses: command, with: { argv: ["echo", "switched"], timeout: 10s } }
      validate:
        - name: Health endpoint
          uses: healthcheck
          with: { url: '${healthUrl}', attempts: 1, successes: 1, timeout: 2s }
      stabilize: ${stabilize}
`;
}

async function declareAndApprove(h: BotHarness): Promise<string> {
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.5.0',
    at: h.clock.now - 60_000,
  });
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: 'checkout --env production --to v1.4.1 --reason "5xx spike"',
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0];
  if (!id) throw new Error('no rollback declared');
  await eventually(() => cardOf(h, id), Boolean);
  await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
  return id;
}

const cardOf = (h: BotHarness, id: string) =>
  h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));
const threadOf = (h: BotHarness, id: string): string => {
  const card = cardOf(h, id);
  return card
    ? h.sim
        .replies(CHANNEL, card.ts)
        .map((r) => r.text)
        .join('\n')
    : '';
};
const pathOf = async (h: BotHarness, id: string): Promise<string | undefined> =>
  (await h.bot.reads.view(id))?.stateDetail;

const later = (h: BotHarness, ms: number): void => {
  h.clock.now += ms;
  h.bot.runtime.timers.nudge();
};

describe('stabilisation window (e2e)', () => {
  it('a health endpoint that turns 500 during the window stops the rollback from resolving, and asks', async () => {
    const health = await healthEndpoint();
    const h = (harness = await startBotHarness({
      planFile: writePlanFile(plan(health.url, '{ for: 10m, interval: 1m }')),
    }));
    const id = await declareAndApprove(h);
    await eventually(
      () => pathOf(h, id),
      (detail) => detail === 'validating (stabilizing)',
    );
    // A first round passes.
    later(h, 61_000);
    await eventually(
      async () => (await h.bot.reads.view(id))?.stabilization,
      (window) => window?.rounds === 1 && window.last[0]?.status === 'succeeded',
    );
    // Then the service breaks.
    health.status.code = 500;
    later(h, 60_000);
    await eventually(
      () => threadOf(h, id),
      (text) => /did not stay stable: check .*Health endpoint.* failed in round 2/.test(text),
    );
    const view = await h.bot.reads.view(id);
    expect(view?.state).toBe('validating');
    expect(view?.stabilization).toMatchObject({ rounds: 2, failures: 1, endedBy: 'check Health endpoint' });
    // The window's end passes: nothing resolves a rollback that is waiting for a human.
    later(h, 10 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await h.bot.reads.view(id))?.state).toBe('validating');
    expect(JSON.stringify(cardOf(h, id)?.blocks)).toContain('ended early by check Health endpoint');
  }, 60_000);

  it('an alert for the service that fires again during the window stops it from resolving', async () => {
    const health = await healthEndpoint();
    const h = (harness = await startBotHarness({
      planFile: writePlanFile(plan(health.url, '10m')),
    }));
    const id = await declareAndApprove(h);
    await eventually(
      () => pathOf(h, id),
      (detail) => detail === 'validating (stabilizing)',
    );
    const fired = alertmanagerPayload(
      [{ name: 'CheckoutHighErrorRate', service: 'checkout', fingerprint: 'e2e-5xx', startsAt: h.clock.now }],
      'stabilize',
    );
    expect((await postAlerts(h.port, '/alerts/alertmanager', fired)).status).toBe(200);
    await eventually(
      () => threadOf(h, id),
      (text) => text.includes('alert *CheckoutHighErrorRate* fired during the stabilisation window'),
    );
    later(h, 11 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await h.bot.reads.view(id))?.state).toBe('validating');
  }, 60_000);

  it('a window whose checks keep passing and whose alerts resolved resolves the rollback', async () => {
    const health = await healthEndpoint();
    const h = (harness = await startBotHarness({
      planFile: writePlanFile(plan(health.url, '{ for: 3m, interval: 1m }')),
    }));
    const id = await declareAndApprove(h);
    await eventually(
      () => pathOf(h, id),
      (detail) => detail === 'validating (stabilizing)',
    );
    for (let round = 1; round <= 2; round += 1) {
      later(h, 61_000);
      await eventually(
        async () => (await h.bot.reads.view(id))?.stabilization,
        (window) => window?.rounds === round && window.last[0]?.status === 'succeeded',
      );
    }
    later(h, 61_000);
    await eventually(
      async () => (await h.bot.reads.view(id))?.outcome?.reason,
      (reason) => reason === 'validation passed; stable for 3m (2 rounds of checks, no failure)',
    );
  }, 60_000);
});
