/**
 * One message per incident (issue 15): a rollback declared in an open incident has no message of its
 * own. Its status card is drawn on the incident's message (updated in place, within Slack's limits)
 * and everything else (notices, step output, the post-mortem) goes into that one thread; a second
 * rollback of the incident is listed on the same message. A rollback without an incident keeps its
 * own card. Real Bolt, real Redis, the Slack simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SimMessage } from '../../src/simulator/index.js';
import { alertmanagerPayload, postAlerts } from '../support/alert-payloads.js';
import { checkBlockLimits } from '../support/block-limits.js';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const PLANS = 'test/fixtures/e2e/alert-plans.yaml';
const blocksOf = (message: SimMessage | undefined): string => JSON.stringify(message?.blocks ?? []);
const repliesText = (h: BotHarness, parent: SimMessage): string =>
  h.sim
    .replies(CHANNEL, parent.ts)
    .map((r) => `${r.text}\n${JSON.stringify(r.blocks)}`)
    .join('\n---\n');
/** Every top-level post the bot ever made, in any channel (a deleted or replaced one still counts). */
const topLevelPosts = (h: BotHarness) =>
  h.sim.callsTo('chat.postMessage').filter((call) => call.args['thread_ts'] === undefined);
const latest = (h: BotHarness, parent: SimMessage): SimMessage => h.sim.message(CHANNEL, parent.ts)!;

async function deployed(h: BotHarness, at: number): Promise<void> {
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.4.1',
    at: at - 86_400_000,
  });
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.5.0',
    at: at - 600_000,
  });
}

const alert = (startsAt: number, status: 'firing' | 'resolved', endsAt?: number) =>
  alertmanagerPayload([
    {
      name: 'CheckoutErrors',
      service: 'checkout',
      fingerprint: 'f-errors',
      startsAt,
      labels: { rollback_trigger: 'error-rate' },
      ...(status === 'resolved' ? { status, endsAt: endsAt ?? startsAt } : {}),
    },
  ]);

async function approveFrom(h: BotHarness, parent: SimMessage, id: string): Promise<void> {
  await eventually(
    () => blocksOf(latest(h, parent)),
    (b) => b.includes('rollback:approve') && b.includes(id),
  );
  const click = await h.driver.click({
    user: PEOPLE.oncall,
    actionId: 'rollback:approve',
    value: forRollback(id),
  });
  expect(click.status).toBe(200);
  // The button clicked is the one on the incident's message.
  expect(click.button.messageTs).toBe(parent.ts);
  await eventually(
    async () => (await h.bot.reads.view(id))?.state,
    (state) => state === 'resolved',
    20_000,
  );
}

describe('one message per incident (e2e)', () => {
  it('keeps an alert-opened incident and its rollbacks in one message and one thread, to the post-mortem', async () => {
    const h = (harness = await startBotHarness({ planFile: PLANS }));
    const t0 = h.clock.now - 7 * 60_000;
    await deployed(h, t0);
    expect((await postAlerts(h.port, '/alerts/alertmanager', alert(t0, 'firing'))).status).toBe(200);
    const [parent] = await eventually(
      () => h.sim.messages(CHANNEL),
      (list) => list.length === 1,
    );
    await eventually(
      () => repliesText(h, parent!),
      (text) => text.includes('incident:propose-rollback'),
    );

    // The offer in the thread declares the rollback: its card appears on the incident's message.
    await h.driver.click({ user: PEOPLE.declarer, actionId: 'incident:propose-rollback' });
    const [first] = await eventually(
      () => h.bot.reads.list({ service: 'checkout' }),
      (list) => list.length === 1,
    );
    await approveFrom(h, parent!, first!.id);
    await eventually(
      () => repliesText(h, parent!),
      (text) => text.includes('Post-mortem draft') && text.includes(first!.id),
    );
    await eventually(
      () => blocksOf(latest(h, parent!)),
      (b) => b.includes(`Rollback \`${first!.id}\``) && b.includes('resolved'),
    );
    expect(repliesText(h, parent!)).toContain('declared a rollback of *checkout*');
    expect(topLevelPosts(h)).toHaveLength(1);

    // The alert still fires: a second rollback joins the same incident and the same message.
    h.clock.now += 60_000;
    const command = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'checkout --to v1.3.0 --reason "still failing"',
      expectResponses: 1,
    });
    const second = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))![0];
    expect(second).not.toBe(first!.id);
    expect(JSON.stringify(command.responses)).toContain("'s message here");
    const incident = await h.bot.incidents.current('checkout', 'production');
    expect(incident?.rollbackIds).toEqual([first!.id, second]);
    const both = await eventually(
      () => latest(h, parent!),
      (m) =>
        blocksOf(m).includes(`Rollback \`${second}\``) &&
        blocksOf(m).includes('Earlier rollbacks of this incident') &&
        blocksOf(m).includes(`\`${first!.id}\``),
    );
    expect(checkBlockLimits(both.blocks)).toEqual([]);
    // One card with buttons: the second rollback's; the first is a line.
    expect(blocksOf(both).match(/"type":"actions"/g)).toHaveLength(1);
    await approveFrom(h, parent!, second);
    await eventually(
      () => repliesText(h, parent!),
      (text) => text.includes('Post-mortem draft') && text.includes(second),
    );

    // The alert resolves: the incident closes on the same message.
    expect(
      (await postAlerts(h.port, '/alerts/alertmanager', alert(t0, 'resolved', h.clock.now))).status,
    ).toBe(200);
    await eventually(
      () => latest(h, parent!).text,
      (text) => text.startsWith('Resolved: checkout'),
    );
    await eventually(
      () => repliesText(h, parent!),
      (text) => /closed after/.test(text),
    );
    await h.bot.threads.settled();

    // From the alert to the post-mortems: exactly one top-level message, everything else its replies.
    expect(topLevelPosts(h)).toHaveLength(1);
    expect(h.sim.messages(CHANNEL).map((m) => m.ts)).toEqual([parent!.ts]);
    const replies = h.sim.callsTo('chat.postMessage').filter((call) => call.args['thread_ts'] !== undefined);
    expect(new Set(replies.map((call) => call.args['thread_ts']))).toEqual(new Set([parent!.ts]));
    // Every version of the message Slack was given stayed within its limits.
    for (const call of h.sim.callsTo('chat.update')) {
      expect(call.args['ts']).toBe(parent!.ts);
      expect(checkBlockLimits(call.args['blocks'])).toEqual([]);
    }
    expect(blocksOf(latest(h, parent!))).toContain(`Rollback \`${second}\``);
  }, 90_000);

  it('a rollback declared with no incident open keeps its own card and thread', async () => {
    const h = (harness = await startBotHarness({ planFile: PLANS }));
    await deployed(h, h.clock.now);
    const command = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'checkout --to v1.4.1',
      expectResponses: 1,
    });
    const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))![0];
    expect(JSON.stringify(command.responses)).toContain('its status card is here');
    const [card] = await eventually(
      () => h.sim.messages(CHANNEL),
      (list) => list.length === 1 && blocksOf(list[0]).includes('rollback:approve'),
    );
    expect(card!.text).toMatch(/Rollback of checkout/);
    expect(blocksOf(card)).not.toContain('INCIDENT');
    await approveFrom(h, card!, id);
    await eventually(
      () => repliesText(h, card!),
      (text) => text.includes('declared a rollback of *checkout*') && text.includes('Post-mortem draft'),
    );
    expect(topLevelPosts(h)).toHaveLength(1);
  }, 60_000);
});
