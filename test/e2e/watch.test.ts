/**
 * Watching while the steps run, end to end: a real health endpoint on 127.0.0.1 sampled by the
 * healthcheck executor as a `watch`, real commands as steps, real Bolt and Redis. When the watched
 * endpoint breaks during step 1, the thread asks at once, step 2 does not start when step 1 ends,
 * and it runs only after someone presses Continue.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

function plan(healthUrl: string, marker: string): string {
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
        - { name: Drain blue, uses: command, with: { argv: ["sleep", "2"], timeout: 10s } }
        - { name: Switch traffic, uses: command, with: { argv: ["touch", "${marker}"], timeout: 10s } }
      watch:
        - name: Checkout health
          uses: healthcheck
          with: { url: '${healthUrl}', attempts: 1, successes: 1, timeout: 2s }
      watchEvery: 30s
      stabilize: 0s
`;
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

describe('watch while the steps run (e2e)', () => {
  it('a breach during step 1 asks at once and holds step 2 until someone presses Continue', async () => {
    const health = await healthEndpoint();
    const marker = join(mkdtempSync(join(tmpdir(), 'rollback-bot-watch-')), 'switched');
    const h = (harness = await startBotHarness({ planFile: writePlanFile(plan(health.url, marker)) }));
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
    health.status.code = 500;
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      async () => (await h.bot.reads.view(id))?.steps[0]?.status,
      (status) => status === 'running',
    );
    // The first sample is due 30 s after authorisation.
    h.clock.now += 31_000;
    h.bot.runtime.timers.nudge();
    await eventually(
      () => threadOf(h, id),
      (text) => text.includes('Checkout health') && text.includes('the next step waits'),
    );
    await eventually(
      async () => (await h.bot.reads.view(id))?.stateDetail,
      (detail) => detail?.startsWith('executing') === true && detail.includes('held'),
      15_000,
    );
    expect(existsSync(marker)).toBe(false);
    expect(JSON.stringify(cardOf(h, id)?.blocks)).toContain('rollback:continue');

    health.status.code = 200;
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:continue', value: forRollback(id) });
    await eventually(
      async () => (await h.bot.reads.view(id))?.state,
      (state) => state === 'resolved',
      15_000,
    );
    expect(existsSync(marker)).toBe(true);
  }, 60_000);
});
