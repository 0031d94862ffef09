/**
 * The simulator's web view over real HTTP: the channel as each person sees it (threads, their own
 * ephemerals only), a redraw pushed over Server-Sent Events when the simulator records a call, a
 * click sent to the bot's request URL signed as Slack signs it, and requests from other sites or
 * hosts refused. The "bot" is a local HTTP peer that records what reaches it.
 */
import { get } from 'node:http';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SlackDriver,
  slackSignature,
  startSimulatorWeb,
  startSlackSimulator,
  type SimulatorWeb,
  type SlackSimulator,
} from '../../../src/simulator/index.js';
import { reply, startPeer, type HttpPeer } from '../../support/http-peer.js';

const TOKEN = 'xoxb-web';
const SECRET = 'web-signing-secret';
let sim: SlackSimulator;
let bot: HttpPeer;
let web: SimulatorWeb;
let client: WebClient;
const actionRuns: string[] = [];

beforeAll(async () => {
  sim = await startSlackSimulator({
    botToken: TOKEN,
    botUserId: 'UBOT',
    teamId: 'T1',
    channels: ['C1'],
    channelNames: { C1: 'incidents' },
    users: { U1: { name: 'u1', real_name: 'Omar' }, U2: { name: 'u2', real_name: 'Otto' } },
    usergroups: {},
  });
  bot = await startPeer((_request, res) => {
    reply(res, 200);
  });
  const driver = new SlackDriver({
    botUrl: `${bot.url}/slack/events`,
    signingSecret: SECRET,
    simulator: sim,
  });
  web = await startSimulatorWeb({
    simulator: sim,
    driver,
    channel: 'C1',
    people: [
      { id: 'U1', label: 'Omar, on-call engineer' },
      { id: 'U2', label: 'Otto, outsider' },
    ],
    actions: [
      {
        id: 'ping',
        label: 'Ping',
        run: (user) => {
          actionRuns.push(user);
          return Promise.resolve(`pinged as ${user}`);
        },
      },
    ],
    notes: () => (actionRuns.length > 0 ? [`<b>pinged ${actionRuns.length}</b>`] : []),
    botName: 'rollback-bot',
  });
  client = new WebClient(TOKEN, { slackApiUrl: sim.url, retryConfig: { retries: 0 } });
});

afterAll(async () => {
  await web.stop();
  await bot.close();
  await sim.stop();
});

async function channelAs(viewer: string): Promise<string> {
  const response = await fetch(`${web.url}channel?viewer=${viewer}`);
  expect(response.status).toBe(200);
  return response.text();
}

function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${web.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('the simulator web view', () => {
  it('serves the page with its switcher and actions, and script and styles as files the CSP allows', async () => {
    const page = await fetch(web.url);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<option value="U1">Omar, on-call engineer</option>');
    expect(html).toContain('data-demo-action="ping"');
    expect(html).toContain('<script src="/app.js"></script>');
    expect(html).not.toMatch(/<script>|style="/);
    expect((await fetch(`${web.url}app.js`)).headers.get('content-type')).toContain('text/javascript');
  });

  it('draws threads, and each person’s ephemerals only for them', async () => {
    const parent = await client.chat.postMessage({ channel: 'C1', text: '*Card* for <@U1>' });
    await client.chat.postMessage({ channel: 'C1', thread_ts: parent.ts!, text: 'a reply <script>' });
    await client.chat.postEphemeral({ channel: 'C1', user: 'U2', text: '🙅 not you' });
    const omar = await channelAs('U1');
    expect(omar).toContain('<strong>Card</strong> for <span class="mention">@Omar</span>');
    expect(omar).toContain('<div class="thread-count">1 reply</div>');
    expect(omar).toContain('a reply &lt;script&gt;');
    expect(omar).not.toContain('not you');
    const otto = await channelAs('U2');
    expect(otto).toContain('<span class="only-you">Only visible to you</span>');
    expect(otto).toContain('🙅 not you');
    expect((await fetch(`${web.url}channel?viewer=U9`)).status).toBe(400);
  });

  it('pushes a change to open pages when the simulator records a call', async () => {
    const events = await fetch(`${web.url}events`);
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    const reader = events.body!.getReader();
    const chunk = async (): Promise<string> => {
      const { value } = (await reader.read()) as { value?: Uint8Array };
      return new TextDecoder().decode(value);
    };
    const first = await chunk();
    const revision = Number(/data: (\d+)/.exec(first)?.[1]);
    await client.chat.postMessage({ channel: 'C1', text: 'something changed' });
    const next = await chunk();
    expect(Number(/data: (\d+)/.exec(next)?.[1])).toBeGreaterThan(revision);
    await reader.cancel();
  });

  it('clicks a button through the driver: a block_actions payload signed as Slack signs it', async () => {
    const posted = await client.chat.postMessage({
      channel: 'C1',
      text: 'card',
      blocks: [
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
    const before = bot.requests.length;
    const response = await postJson('click', {
      user: 'U1',
      channel: 'C1',
      ts: posted.ts,
      actionId: 'rollback:approve',
      value: 'rb-1',
    });
    expect(await response.json()).toEqual({ message: 'Omar clicked “Approve”.' });
    const delivery = bot.requests[before]!;
    const timestamp = Number(delivery.headers['x-slack-request-timestamp']);
    expect(delivery.headers['x-slack-signature']).toBe(slackSignature(SECRET, timestamp, delivery.body));
    const payload = JSON.parse(new URLSearchParams(delivery.body).get('payload') ?? '{}') as {
      type: string;
      user: { id: string };
      actions: Array<{ action_id: string; value: string }>;
    };
    expect(payload.type).toBe('block_actions');
    expect(payload.user.id).toBe('U1');
    expect(payload.actions[0]).toMatchObject({ action_id: 'rollback:approve', value: 'rb-1' });

    // A button no longer there is said so, in words.
    const gone = await postJson('click', {
      user: 'U1',
      channel: 'C1',
      ts: posted.ts,
      actionId: 'rollback:reject',
    });
    expect(gone.status).toBe(409);
    expect(((await gone.json()) as { message: string }).message).toMatch(/not there any more/);
  });

  it('runs the host’s actions as the chosen person and shows its notes escaped', async () => {
    const response = await postJson('actions/ping', { user: 'U2' });
    expect(await response.json()).toEqual({ message: 'pinged as U2' });
    expect(actionRuns).toEqual(['U2']);
    expect(await channelAs('U1')).toContain('<div class="notes"><p>&lt;b&gt;pinged 1&lt;/b&gt;</p></div>');
    expect((await postJson('actions/nope', { user: 'U2' })).status).toBe(404);
  });

  it('refuses other sites, other hosts, form posts and malformed bodies', async () => {
    const foreign = await postJson('actions/ping', { user: 'U1' }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const form = await fetch(`${web.url}actions/ping`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=U1',
    });
    expect(form.status).toBe(403);
    // fetch keeps its own Host header; node:http sends the one a rebinding page would.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      get(web.url, { headers: { host: `evil.example:${web.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(rebound).toBe(403);
    const malformed = await postJson('click', { user: 'U1', ts: 'now' });
    expect(malformed.status).toBe(400);
    expect(actionRuns).toEqual(['U2']);
  });
});
