/**
 * Slack deliveries sent twice (issue "Untrusted text stays text", F7), through the bot's real HTTP
 * door with the simulator's signed requests: a signed slash command, modal submission or event
 * replayed byte for byte within Slack's 5-minute window (or retried by Slack) has one effect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { selectOption, textInput } from '../../src/simulator/index.js';
import { CHANNEL, eventually, PEOPLE, startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
const rollbackIds = async (h: BotHarness) => (await h.bot.reads.list({})).map((r) => r.id);

async function cancel(h: BotHarness, id: string): Promise<void> {
  const cancelled = await h.driver.slashCommand({
    user: PEOPLE.oncall,
    channel: CHANNEL,
    text: `cancel ${id}`,
    expectResponses: 1,
  });
  expect(JSON.stringify(cancelled.responses)).toContain('cancelled');
}

describe('a Slack delivery sent twice is acted on once', () => {
  it('a replayed slash command does not bring a cancelled declaration back', async () => {
    const h = (harness = await startBotHarness());
    const declared = await h.driver.slashCommand({
      user: PEOPLE.oncall,
      channel: CHANNEL,
      text: 'checkout --to v1.4.1 --reason bad-deploy',
      expectResponses: 1,
    });
    const id = /rb-[0-9a-f]+/.exec(JSON.stringify(declared.responses))![0];
    await cancel(h, id);

    const replayed = await h.driver.replay(declared.request);
    expect(replayed.status).toBe(200);
    await settle();
    expect(await rollbackIds(h)).toEqual([id]);
    // Slack's retry of the command (same body, a retry header) is the same delivery.
    const retried = await h.driver.replay({
      ...declared.request,
      headers: { ...declared.request.headers, 'x-slack-retry-num': '1' },
    });
    expect(retried.status).toBe(200);
    await settle();
    expect(await rollbackIds(h)).toEqual([id]);
  }, 60_000);

  it('a replayed modal submission declares once', async () => {
    const h = (harness = await startBotHarness());
    // The modal takes no version: the bot rolls back to the deployment before the last one.
    for (const [version, ago] of [
      ['v1.5.0', 120_000],
      ['v1.5.1', 60_000],
    ] as const) {
      await h.store.recordDeployment({
        service: 'checkout',
        environment: 'production',
        version,
        at: h.clock.now - ago,
      });
    }
    await h.driver.slashCommand({ user: PEOPLE.oncall, channel: CHANNEL, text: '' });
    const view = await eventually(() => h.sim.views()[0], Boolean);
    const submitted = await h.driver.submitView({
      user: PEOPLE.oncall,
      viewId: view!.id,
      values: {
        service: selectOption('checkout'),
        environment: selectOption('production'),
        reason: textInput('errors'),
      },
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');
    const [id] = await eventually(
      () => rollbackIds(h),
      (ids) => ids.length === 1,
    );
    await cancel(h, id!);

    const replayed = await h.driver.replay(submitted.request);
    expect(replayed.status).toBe(200);
    await settle();
    expect(await rollbackIds(h)).toEqual([id]);
  }, 60_000);

  it('an event delivered again (replayed, or retried by Slack with its event_id) is handled once', async () => {
    const h = (harness = await startBotHarness());
    const opened = await h.driver.openAppHome({ user: PEOPLE.declarer });
    expect(opened.status).toBe(200);
    const publishes = () => h.sim.callsTo('views.publish').length;
    await eventually(publishes, (n) => n === 1);

    expect((await h.driver.replay(opened.request)).status).toBe(200);
    const retry = await h.driver.openAppHome({
      user: PEOPLE.declarer,
      eventId: opened.eventId,
      retryNum: 1,
      retryReason: 'http_timeout',
    });
    expect(retry.status).toBe(200);
    await settle();
    expect(publishes()).toBe(1);
    // Another event (a new event_id) is handled.
    await h.driver.openAppHome({ user: PEOPLE.declarer });
    await eventually(publishes, (n) => n === 2);
  }, 60_000);
});
