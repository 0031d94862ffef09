import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  channelTranscript,
  selectOption,
  SlackDriver,
  startSlackSimulator,
  textInput,
  type SlackSimulator,
} from '../../../src/simulator/index.js';

const SECRET = 'sim-signing-secret';
const TOKEN = 'xoxb-sim-token';

interface Seen {
  commands: { text: string; user: string; retryNum?: number; retryReason?: string }[];
  actions: { value?: string; user: string }[];
  actionTs: string[];
  views: { values: unknown; privateMetadata: string }[];
  events: { type: string; retryNum?: number }[];
}

let sim: SlackSimulator;
let app: App;
let driver: SlackDriver;
const seen: Seen = { commands: [], actions: [], actionTs: [], views: [], events: [] };

const declareModal = {
  type: 'modal' as const,
  callback_id: 'declare',
  private_metadata: 'C1',
  title: { type: 'plain_text' as const, text: 'Declare a rollback' },
  submit: { type: 'plain_text' as const, text: 'Declare' },
  blocks: [
    {
      type: 'input',
      label: { type: 'plain_text' as const, text: 'Service' },
      element: {
        type: 'static_select',
        action_id: 'service',
        options: [
          { text: { type: 'plain_text' as const, text: 'User service' }, value: 'user-service' },
          { text: { type: 'plain_text' as const, text: 'Billing' }, value: 'billing' },
        ],
      },
    },
    {
      type: 'input',
      block_id: 'reason_block',
      label: { type: 'plain_text' as const, text: 'Reason' },
      element: { type: 'plain_text_input', action_id: 'reason' },
    },
  ],
};

beforeAll(async () => {
  sim = await startSlackSimulator({
    botToken: TOKEN,
    botUserId: 'UBOT',
    teamId: 'T1',
    channels: ['C1'],
    channelNames: { C1: 'incidents' },
    users: { UBOT: { name: 'rollback-bot' }, U1: { name: 'alice' }, U2: { name: 'bob' } },
    usergroups: {},
  });
  app = new App({
    signingSecret: SECRET,
    token: TOKEN,
    clientOptions: { slackApiUrl: sim.url, retryConfig: { retries: 0 } },
    deferInitialization: true,
    logLevel: LogLevel.ERROR,
  });
  await app.init();
  app.command('/rollback', async ({ ack, command, client, respond, context }) => {
    seen.commands.push({
      text: command.text,
      user: command.user_id,
      ...(context.retryNum === undefined ? {} : { retryNum: context.retryNum }),
      ...(context.retryReason === undefined ? {} : { retryReason: context.retryReason }),
    });
    await ack();
    if (command.text === '') {
      await client.views.open({ trigger_id: command.trigger_id, view: declareModal });
      return;
    }
    await client.chat.postMessage({
      channel: command.channel_id,
      text: `Rollback of ${command.text} declared`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: `Rollback: ${command.text}` } },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              action_id: 'rollback:approve',
              value: 'rb-1',
              text: { type: 'plain_text', text: 'Approve' },
            },
            {
              type: 'button',
              action_id: 'rollback:reject',
              value: 'rb-1',
              text: { type: 'plain_text', text: 'Reject' },
            },
          ],
        },
      ],
    });
    await respond({ text: 'Declared: see the card' });
  });
  app.action('rollback:approve', async ({ ack, action, body, respond }) => {
    await ack();
    if ('action_ts' in action) seen.actionTs.push(action.action_ts);
    seen.actions.push({
      user: body.user.id,
      ...('value' in action && action.value !== undefined ? { value: action.value } : {}),
    });
    await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
  });
  app.view('declare', async ({ ack, view }) => {
    seen.views.push({ values: view.state.values, privateMetadata: view.private_metadata });
    await ack();
  });
  app.event('app_mention', async ({ event, context }) => {
    seen.events.push({
      type: event.type,
      ...(context.retryNum === undefined ? {} : { retryNum: context.retryNum }),
    });
    await Promise.resolve();
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const { port } = server.address() as AddressInfo;
  driver = new SlackDriver({
    botUrl: `http://127.0.0.1:${port}/slack/events`,
    signingSecret: SECRET,
    simulator: sim,
  });
});

afterAll(async () => {
  await app.stop();
  await sim.stop();
});

beforeEach(() => {
  seen.commands.length = 0;
  seen.actions.length = 0;
  seen.actionTs.length = 0;
  seen.views.length = 0;
  seen.events.length = 0;
});

describe('SlackDriver against a real Bolt app', () => {
  it('a signed slash command is accepted, the bot posts a card and answers on the response_url', async () => {
    const result = await driver.slashCommand({
      user: 'U1',
      channel: 'C1',
      text: 'user-service',
      expectResponses: 1,
    });
    expect(result.status).toBe(200);
    expect(result.ackMs).toBeGreaterThan(0);
    expect(seen.commands).toEqual([{ text: 'user-service', user: 'U1' }]);
    expect(result.responses).toMatchObject([
      { response_type: 'ephemeral', text: 'Declared: see the card', user: 'U1' },
    ]);
    const transcript = channelTranscript(sim, 'C1', { viewer: 'U1' });
    expect(transcript).toMatch(
      /^\d\d:\d\d:\d\d rollback-bot:\n {2}# Rollback: user-service\n {2}\[Approve\] \[Reject\]$/m,
    );
    expect(transcript).toContain('(only you) rollback-bot: Declared: see the card');
  });

  it('a forged signature gets 401 and the handler never runs; so does a stale timestamp', async () => {
    const forged = await driver.slashCommand({
      user: 'U1',
      channel: 'C1',
      text: 'user-service',
      forge: true,
    });
    expect(forged.status).toBe(401);
    const stale = await driver.slashCommand({
      user: 'U1',
      channel: 'C1',
      text: 'user-service',
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(stale.status).toBe(401);
    expect(seen.commands).toEqual([]);
  });

  it('a click on a posted button reaches the action handler with its value, and replace_original edits the card', async () => {
    await driver.slashCommand({ user: 'U1', channel: 'C1', text: 'billing', expectResponses: 1 });
    const click = await driver.click({
      user: 'U2',
      actionId: 'rollback:approve',
      value: 'rb-1',
      expectResponses: 1,
    });
    expect(click.status).toBe(200);
    expect(seen.actions).toEqual([{ user: 'U2', value: 'rb-1' }]);
    const card = sim.message('C1', click.button.messageTs)!;
    expect(card.text).toBe('Approved by <@U2>');
    expect(card.versions.map((v) => v.via)).toEqual(['chat.postMessage', 'response_url']);
  });

  it('clicks sent within the same millisecond carry different action_ts, as Slack gives each action its own', async () => {
    await driver.slashCommand({ user: 'U1', channel: 'C1', text: 'billing', expectResponses: 1 });
    // The clock stands still while the clicks are sent: all five fall in one millisecond.
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    const clicks = Array.from({ length: 5 }, () =>
      driver.click({ user: 'U2', actionId: 'rollback:approve', value: 'rb-1' }),
    );
    now.mockRestore();
    await Promise.all(clicks);
    expect(seen.actionTs).toHaveLength(5);
    expect(new Set(seen.actionTs).size).toBe(5);
    for (const ts of seen.actionTs) expect(ts).toMatch(/^\d{10}\.\d{6}$/);
  });

  it('a missing button is an error that lists the buttons there are', async () => {
    await driver.slashCommand({ user: 'U1', channel: 'C1', text: 'payments', expectResponses: 1 });
    await expect(driver.click({ user: 'U1', actionId: 'rollback:abort' })).rejects.toThrow(
      /No button rollback:abort visible to U1[\s\S]*rollback:reject value="rb-1" \[Reject\]/,
    );
  });

  it('a modal opened from the command is submitted with its values keyed by the real block and action ids', async () => {
    await driver.slashCommand({ user: 'U1', channel: 'C1', text: '' });
    const view = sim.views().find((v) => v.callbackId === 'declare' && v.open)!;
    expect(view.user).toBe('U1');
    const serviceBlockId = view.blocks[0]!.block_id as string;
    const submitted = await driver.submitView({
      user: 'U1',
      callbackId: 'declare',
      values: { service: selectOption('billing'), reason: textInput('5xx spike') },
    });
    expect(submitted.status).toBe(200);
    expect(seen.views).toEqual([
      {
        privateMetadata: 'C1',
        values: {
          [serviceBlockId]: {
            service: {
              type: 'static_select',
              selected_option: { text: { type: 'plain_text', text: 'Billing' }, value: 'billing' },
            },
          },
          reason_block: { reason: { type: 'plain_text_input', value: '5xx spike' } },
        },
      },
    ]);
    expect(sim.view(view.id)!.open).toBe(false);
  });

  it('retry headers are visible to the app, on commands and on events', async () => {
    await driver.slashCommand({
      user: 'U1',
      channel: 'C1',
      text: 'svc',
      retryNum: 1,
      retryReason: 'http_timeout',
    });
    expect(seen.commands).toMatchObject([{ retryNum: 1, retryReason: 'http_timeout' }]);
    const event = await driver.sendEvent(
      { type: 'app_mention', user: 'U1', text: '<@UBOT> status', channel: 'C1', ts: '1.000001' },
      { retryNum: 2, retryReason: 'http_error' },
    );
    expect(event.status).toBe(200);
    await expect.poll(() => seen.events).toEqual([{ type: 'app_mention', retryNum: 2 }]);
  });
});
