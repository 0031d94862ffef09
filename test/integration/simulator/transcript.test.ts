import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  bodyLines,
  channelTranscript,
  startSlackSimulator,
  type SlackSimulator,
} from '../../../src/simulator/index.js';

const TOKEN = 'xoxb-sim-token';
// 2024-11-23T06:00:00Z, advanced by hand so the transcript's times are fixed.
let clock = Date.UTC(2024, 10, 23, 6, 0, 0);
let sim: SlackSimulator;
let client: WebClient;

beforeAll(async () => {
  sim = await startSlackSimulator({
    botToken: TOKEN,
    botUserId: 'UBOT',
    teamId: 'T1',
    channels: ['C1'],
    users: { UBOT: { name: 'rollback-bot' }, U1: { name: 'alice' } },
    usergroups: {},
    now: () => clock,
  });
  client = new WebClient(TOKEN, { slackApiUrl: sim.url, retryConfig: { retries: 0 } });
});

afterAll(async () => {
  await sim.stop();
});

it('renders a channel as a person reads it: blocks flattened, replies indented, edits and ephemerals marked', async () => {
  const card = await client.chat.postMessage({
    channel: 'C1',
    text: 'fallback',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Rollback user-service' } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: 'v1.4.2 -> v1.4.1' },
        fields: [
          { type: 'mrkdwn', text: '*Env* production' },
          { type: 'mrkdwn', text: '*Strategy* k8s' },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'approver: on-call' }] },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'rollback:approve',
            value: 'rb-1',
            text: { type: 'plain_text', text: 'Approve' },
          },
        ],
      },
    ],
  });
  clock += 5_000;
  await client.chat.postMessage({ channel: 'C1', thread_ts: card.ts!, text: 'Step 1 started' });
  clock += 1_000;
  await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'You may not approve yet' });
  const before = clock;
  clock += 2_000;
  await client.chat.update({ channel: 'C1', ts: card.ts!, text: 'Approved', blocks: [] });

  expect(channelTranscript(sim, 'C1')).toBe(
    [
      '06:00:00 rollback-bot (edited): Approved',
      '    06:00:05 rollback-bot: Step 1 started',
      '06:00:06 (only alice) rollback-bot: You may not approve yet',
    ].join('\n'),
  );
  expect(channelTranscript(sim, 'C1', { now: before, viewer: 'U1' })).toBe(
    [
      '06:00:00 rollback-bot:',
      '  # Rollback user-service',
      '  v1.4.2 -> v1.4.1',
      '  *Env* production | *Strategy* k8s',
      '  approver: on-call',
      '  [Approve]',
      '    06:00:05 rollback-bot: Step 1 started',
      '06:00:06 (only you) rollback-bot: You may not approve yet',
    ].join('\n'),
  );
});

it('keeps a field on one line and every line of a multi-line text indented under its message', async () => {
  const at = clock;
  clock += 60_000;
  await client.chat.postMessage({
    channel: 'C1',
    text: 'card',
    blocks: [
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Versions*\n`v2` → `v1`' },
          { type: 'mrkdwn', text: '*State*\ndeclared' },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: 'Output\n```\nline 1\nline 2\n```' } },
    ],
  });
  expect(bodyLines('', [{ type: 'section', fields: [{ type: 'mrkdwn', text: '*A*\nb' }] }], [])).toEqual([
    '*A* b',
  ]);
  expect(channelTranscript(sim, 'C1').split('\n').slice(-7)).toEqual([
    `${new Date(at + 60_000).toISOString().slice(11, 19)} rollback-bot:`,
    '  *Versions* `v2` → `v1` | *State* declared',
    '  Output',
    '  ```',
    '  line 1',
    '  line 2',
    '  ```',
  ]);
});
