/**
 * An alert that fires while Slack is away still gets its incident thread: the sync Slack could not
 * take is noted in Redis as behind, and the sweep posts it once Slack answers, with no further alert
 * (Alertmanager does not deliver an unchanged group again for hours). Noted in Redis, it is taken up
 * by the next process after a restart too. Counted: one thread per incident, its offer once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import type { SimMessage } from '../../src/simulator/index.js';
import { alertmanagerPayload, postAlerts } from '../support/alert-payloads.js';
import { CHANNEL, eventually, startBotHarness, type BotHarness } from '../support/bot-harness.js';

const PLANS = 'test/fixtures/e2e/alert-plans.yaml';
const CHAT = ['chat.postMessage', 'chat.update'];
const SWEEP_MS = 200;

const running: BotHarness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});

const threadsOf = (h: BotHarness, service: string): SimMessage[] =>
  h.sim.messages(CHANNEL).filter((m) => m.text.includes(`Incident: ${service} (`));
const offers = (h: BotHarness, parent: SimMessage): number =>
  h.sim
    .replies(CHANNEL, parent.ts)
    .filter((r) => JSON.stringify(r.blocks).includes('incident:propose-rollback')).length;

async function fire(h: BotHarness, service: string): Promise<void> {
  const payload = alertmanagerPayload(
    [{ name: 'HighLatency', service, startsAt: h.clock.now - 60_000 }],
    service,
  );
  expect((await postAlerts(h.port, '/alerts/alertmanager', payload)).status).toBe(200);
}

const behind = (h: BotHarness) => h.store.listDocs(COLLECTIONS.incidentThreadsBehind);

describe('incident threads while Slack is away', () => {
  it('posts the thread of an alert that fired during a Slack outage once Slack answers, with no new alert', async () => {
    const h = await startBotHarness({ planFile: PLANS, bot: { incidentSweepMs: SWEEP_MS } });
    running.push(h);
    h.sim.failFor(CHAT, { kind: 'ratelimited', retryAfterSeconds: 1 }, 2_500);
    await fire(h, 'checkout');
    await eventually(
      () => behind(h),
      (docs) => docs.length === 1,
    );
    expect(threadsOf(h, 'checkout')).toHaveLength(0);

    const [thread] = await eventually(
      () => threadsOf(h, 'checkout'),
      (list) => list.length === 1,
      15_000,
    );
    await eventually(
      () => offers(h, thread!),
      (n) => n === 1,
    );
    await eventually(
      () => behind(h),
      (docs) => docs.length === 0,
    );
    // Sweeps go on: nothing is posted twice.
    await new Promise((resolve) => setTimeout(resolve, SWEEP_MS * 5));
    await h.bot.threads.settled();
    expect(threadsOf(h, 'checkout')).toHaveLength(1);
    expect(offers(h, thread!)).toBe(1);
  }, 30_000);

  it('a restart in the middle: the next process posts the thread the last one owed', async () => {
    const first = await startBotHarness({ planFile: PLANS, bot: { incidentSweepMs: SWEEP_MS } });
    first.sim.failAlways('chat.postMessage', { kind: 'http500' });
    await fire(first, 'payments');
    await eventually(
      () => behind(first),
      (docs) => docs.length === 1,
    );
    await first.stop({ keepData: true });
    first.sim.clearFaults();

    const second = await startBotHarness({
      planFile: PLANS,
      prefix: first.prefix,
      sim: first.sim,
      bot: { incidentSweepMs: SWEEP_MS },
    });
    running.push(second);
    try {
      const [thread] = await eventually(
        () => threadsOf(second, 'payments'),
        (list) => list.length === 1,
        15_000,
      );
      await eventually(
        () => offers(second, thread!),
        (n) => n === 1,
      );
      await eventually(
        () => behind(second),
        (docs) => docs.length === 0,
      );
    } finally {
      running.splice(running.indexOf(second), 1);
      await second.stop();
      await first.sim.stop();
    }
  }, 30_000);
});
