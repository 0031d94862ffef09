/**
 * The whole journey through Slack's wire format: signed slash commands and clicks from the
 * simulator's driver, real Bolt, real Redis, real commands as steps, the card in the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeButtonValue } from '../../src/slack/blocks/kit.js';
import { channelTranscript, selectOption, textInput } from '../../src/simulator/index.js';
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

async function declare(
  h: BotHarness,
  text = 'checkout --env production --to v1.4.1 --reason "5xx spike"',
): Promise<string> {
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.5.0',
    at: h.clock.now - 60_000,
  });
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text,
    expectResponses: 1,
  });
  expect(command.status).toBe(200);
  const answer = command.responses.map((r) => JSON.stringify(r)).join('\n');
  const id = /rb-[0-9a-f]+/.exec(answer)?.[0];
  if (!id) throw new Error(`no rollback id in the answer: ${answer}`);
  // The card is posted by the outbox, just after the declaration is stored.
  await eventually(() => cardOf(h, id), Boolean);
  return id;
}

const cardOf = (h: BotHarness, id: string) =>
  h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));

const stateOf = async (h: BotHarness, id: string): Promise<string | undefined> =>
  (await h.store.getRollback(id))?.state;

describe('Slack journey (simulator, real Bolt, real Redis)', () => {
  it('declares, refuses an outsider, approves, runs, validates with a manual check and resolves', async () => {
    const h = (harness = await startBotHarness());
    const id = await declare(h);
    await eventually(() => cardOf(h, id), Boolean);

    const refused = await h.driver.click({
      user: PEOPLE.outsider,
      actionId: 'rollback:approve',
      value: forRollback(id),
    });
    expect(refused.status).toBe(200);
    await eventually(
      () =>
        h.sim
          .ephemerals({ user: PEOPLE.outsider })
          .map((e) => e.text)
          .join('\n'),
      (text) => /needs on-call-engineer or above/.test(text),
    );
    expect(await stateOf(h, id)).toBe('declared');

    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'validating',
    );
    await eventually(
      () => cardOf(h, id),
      (card) => JSON.stringify(card?.blocks).includes('rollback:check-done'),
    );
    await h.driver.click({
      user: PEOPLE.oncall,
      actionId: 'rollback:check-done',
      value: (v) => decodeButtonValue(v)?.rollbackId === id,
    });
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'resolved',
    );
    await eventually(
      () => JSON.stringify(cardOf(h, id)?.blocks),
      (blocks) => blocks.includes('resolved'),
    );

    const transcript = channelTranscript(h.sim, CHANNEL);
    expect(transcript).toContain('draining for v1.4.1');
    const api = await fetch(`http://127.0.0.1:${h.port}/api/rollbacks/${id}`, {
      headers: { authorization: 'Bearer e2e-api-token' },
    });
    expect(api.status).toBe(200);
    const body = (await api.json()) as {
      state: string;
      approvals: Array<{ user: string; role: string }>;
      timeline: unknown[];
    };
    expect(body.state).toBe('resolved');
    expect(body.approvals).toMatchObject([{ user: PEOPLE.oncall, role: 'on-call-engineer' }]);
  }, 60_000);

  it('re-draws the card at minute 15 and then refuses the on-call engineer', async () => {
    const h = (harness = await startBotHarness());
    const id = await declare(h);
    await eventually(() => cardOf(h, id), Boolean);
    h.clock.now += 15 * 60_000;
    h.bot.runtime.timers.nudge();
    await eventually(
      () => JSON.stringify(cardOf(h, id)?.blocks),
      (blocks) => blocks.includes('team-lead') && !blocks.includes('*on-call-engineer* or above'),
    );
    const card = cardOf(h, id)!;
    await eventually(
      () =>
        h.sim
          .replies(CHANNEL, card.ts)
          .map((r) => r.text)
          .join('\n'),
      (text) => /team-lead/.test(text) && /S0ONCALL|engineering-manager/.test(text),
    );
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () =>
        h.sim
          .ephemerals({ user: PEOPLE.oncall })
          .map((e) => e.text)
          .join('\n'),
      (text) => text.includes('needs team-lead or above since minute 15; you are on-call-engineer'),
    );
    expect(await stateOf(h, id)).toBe('declared');
    await h.driver.click({ user: PEOPLE.lead, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'validating',
    );
  }, 60_000);

  it('stops at a failed step, offers Retry in the thread, and carries on after it', async () => {
    const marker = `/tmp/rollback-bot-e2e-${process.pid}-${Date.now()}`;
    const h = (harness = await startBotHarness({ env: { E2E_FAIL_SWITCH: marker } }));
    const id = await declare(h);
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      async () => (await h.bot.reads.view(id))?.steps[1]?.status,
      (status) => status === 'failed',
    );
    await eventually(
      () => JSON.stringify(cardOf(h, id)?.blocks),
      (blocks) => blocks.includes('rollback:retry-step'),
    );
    await h.driver.click({
      user: PEOPLE.oncall,
      actionId: 'rollback:retry-step',
      value: forRollback(id),
      messageTs: cardOf(h, id)!.ts,
    });
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'validating',
    );
    const steps = (await h.bot.reads.view(id))!.steps;
    expect(steps[1]).toMatchObject({ status: 'succeeded', attempts: 2 });
  }, 60_000);

  it('aborts on request after a step keeps failing', async () => {
    const h = (harness = await startBotHarness({ env: { E2E_FAIL_SWITCH: '/nonexistent/dir/marker' } }));
    const id = await declare(h);
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () => JSON.stringify(cardOf(h, id)?.blocks),
      (blocks) => blocks.includes('rollback:abort'),
    );
    await h.driver.click({
      user: PEOPLE.oncall,
      actionId: 'rollback:abort',
      value: forRollback(id),
      messageTs: cardOf(h, id)!.ts,
    });
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'aborted',
    );
  }, 60_000);

  it('cancels a declared rollback with /rollback cancel', async () => {
    const h = (harness = await startBotHarness());
    const id = await declare(h);
    const cancel = await h.driver.slashCommand({
      user: PEOPLE.oncall,
      channel: CHANNEL,
      text: `cancel ${id}`,
      expectResponses: 1,
    });
    expect(JSON.stringify(cancel.responses)).toContain('cancelled');
    expect(await stateOf(h, id)).toBe('cancelled');
    const again = await h.driver.slashCommand({
      user: PEOPLE.outsider,
      channel: CHANNEL,
      text: `cancel ${id}`,
      expectResponses: 1,
    });
    expect(JSON.stringify(again.responses)).toMatch(/not accepted|ended/);
  }, 60_000);

  it('declares through the modal', async () => {
    const h = (harness = await startBotHarness());
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.5.0',
      at: h.clock.now - 120_000,
    });
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.5.1',
      at: h.clock.now - 60_000,
    });
    const opened = await h.driver.slashCommand({ user: PEOPLE.declarer, channel: CHANNEL, text: '' });
    expect(opened.status).toBe(200);
    const view = await eventually(() => h.sim.views()[0], Boolean);
    const submitted = await h.driver.submitView({
      user: PEOPLE.declarer,
      viewId: view!.id,
      values: {
        service: selectOption('checkout'),
        environment: selectOption('production'),
        reason: textInput('errors after 1.5.1'),
      },
    });
    expect(submitted.status).toBe(200);
    const [rollback] = await eventually(
      () => h.bot.reads.list({ service: 'checkout' }),
      (list) => list.length === 1,
    );
    expect(rollback).toMatchObject({
      state: 'declared',
      fromVersion: 'v1.5.1',
      toVersion: 'v1.5.0',
      reason: 'errors after 1.5.1',
    });
    await eventually(() => cardOf(h, rollback!.id), Boolean);
  }, 60_000);

  it('answers a modal whose target is not a version with a field error, and declares nothing', async () => {
    const h = (harness = await startBotHarness());
    await h.driver.slashCommand({ user: PEOPLE.declarer, channel: CHANNEL, text: '' });
    const view = await eventually(() => h.sim.views()[0], Boolean);
    const submitted = await h.driver.submitView({
      user: PEOPLE.declarer,
      viewId: view!.id,
      values: {
        service: selectOption('checkout'),
        environment: selectOption('production'),
        to_version: textInput('v1/../../..'),
        reason: textInput('errors after 1.5.1'),
      },
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toEqual({
      response_action: 'errors',
      errors: {
        declare_to_version:
          "'v1/../../..' has '/': a version is letters, digits and . _ + - (at most 128, starting with a letter or digit).",
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await h.store.listRollbacks()).toEqual([]);
  }, 60_000);

  it('acts once on a click delivered twice and on a double click', async () => {
    const h = (harness = await startBotHarness());
    const id = await declare(h);
    const actionTs = '1795413720.000100';
    const approve = { user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) };
    // All three find the button before the card is redrawn, as in Slack: a retry is sent while the
    // first delivery is still being handled, and a double click lands twice.
    await Promise.all([
      h.driver.click({ ...approve, actionTs }),
      h.driver.click({ ...approve, actionTs, retryNum: 1, retryReason: 'http_timeout' }),
      h.driver.click(approve),
    ]);
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'validating',
    );
    const audit = await h.store.readAudit(id);
    expect(audit.filter((entry) => entry.event === 'APPROVE')).toHaveLength(1);
  }, 60_000);

  it('answers a forged signature with 401 and changes nothing', async () => {
    const h = (harness = await startBotHarness());
    const forged = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'checkout --to v1.4.1',
      forge: true,
    });
    expect(forged.status).toBe(401);
    const stale = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'checkout --to v1.4.1',
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await h.store.listRollbacks()).toEqual([]);
    expect(h.sim.callsTo('chat.postMessage')).toEqual([]);
  }, 60_000);
});
