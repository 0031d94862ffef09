import { WebClient, ErrorCode, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelTranscript, startSlackSimulator, type SlackSimulator } from '../../../src/simulator/index.js';

const TOKEN = 'xoxb-sim-token';
let sim: SlackSimulator;
let client: WebClient;

beforeEach(async () => {
  sim = await startSlackSimulator({
    botToken: TOKEN,
    botUserId: 'UBOT',
    teamId: 'T1',
    channels: ['C1', 'C2'],
    users: {
      UBOT: { name: 'rollback-bot' },
      U1: { name: 'alice', real_name: 'Alice A' },
      U2: { name: 'bob' },
    },
    usergroups: { S1: ['U1', 'U2'] },
  });
  client = new WebClient(TOKEN, { slackApiUrl: sim.url, retryConfig: { retries: 0 } });
});

afterEach(async () => {
  await sim.stop();
});

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (actionId: string, value: string) => ({
  type: 'actions',
  elements: [{ type: 'button', action_id: actionId, value, text: { type: 'plain_text', text: 'Go' } }],
});

async function platformError(call: Promise<unknown>): Promise<WebAPIPlatformError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: ErrorCode.PlatformError });
  return error as WebAPIPlatformError;
}

describe('Web API methods', () => {
  it('answers auth.test, users.info, conversations.info and usergroups.users.list', async () => {
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true, user_id: 'UBOT', team_id: 'T1' });
    await expect(client.users.info({ user: 'U1' })).resolves.toMatchObject({
      user: { id: 'U1', name: 'alice', real_name: 'Alice A' },
    });
    await expect(client.conversations.info({ channel: 'C1' })).resolves.toMatchObject({
      channel: { id: 'C1' },
    });
    await expect(client.usergroups.users.list({ usergroup: 'S1' })).resolves.toMatchObject({
      users: ['U1', 'U2'],
    });
    expect((await platformError(client.users.info({ user: 'U9' }))).data.error).toBe('user_not_found');
  });

  it('posts with increasing ts, threads replies under the parent and counts them', async () => {
    const parent = await client.chat.postMessage({
      channel: 'C1',
      text: 'incident',
      blocks: [section('*5xx*')],
    });
    expect(parent).toMatchObject({ ok: true, channel: 'C1', message: { text: 'incident', user: 'UBOT' } });
    expect(parent.ts).toMatch(/^\d{10}\.\d{6}$/);
    const reply1 = await client.chat.postMessage({ channel: 'C1', text: 'step 1', thread_ts: parent.ts! });
    // A reply's ts names the parent's thread, as in Slack.
    const reply2 = await client.chat.postMessage({ channel: 'C1', text: 'step 2', thread_ts: reply1.ts! });
    expect(Number(reply1.ts)).toBeGreaterThan(Number(parent.ts));
    expect(Number(reply2.ts)).toBeGreaterThan(Number(reply1.ts));
    expect(reply2.message).toMatchObject({ thread_ts: parent.ts });
    expect(sim.messages('C1').map((m) => m.text)).toEqual(['incident']);
    expect(sim.replies('C1', parent.ts!).map((m) => m.text)).toEqual(['step 1', 'step 2']);
    const again = await client.chat.update({ channel: 'C1', ts: parent.ts!, text: 'incident (updated)' });
    expect(again.message).toMatchObject({ reply_count: 2, thread_ts: parent.ts });
    expect(sim.callsTo('chat.postMessage')[0]!.args).toMatchObject({
      channel: 'C1',
      blocks: [section('*5xx*')],
    });
  });

  it('keeps every version on chat.update, and chat.delete hides the message', async () => {
    const posted = await client.chat.postMessage({
      channel: 'C1',
      text: 'v1',
      blocks: [button('rollback:approve', 'rb-1')],
    });
    await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'v2', blocks: [section('approved')] });
    const message = sim.message('C1', posted.ts!)!;
    expect(message.text).toBe('v2');
    expect(message.versions.map((v) => [v.text, v.via])).toEqual([
      ['v1', 'chat.postMessage'],
      ['v2', 'chat.update'],
    ]);
    expect(message.blocks[0]).toMatchObject({ type: 'section', block_id: expect.any(String) as string });
    expect(
      (await platformError(client.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' }))).data.error,
    ).toBe('message_not_found');
    await client.chat.delete({ channel: 'C1', ts: posted.ts! });
    expect(sim.messages('C1')).toEqual([]);
  });

  it('keeps ephemerals per user and channel', async () => {
    const sent = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'only for alice' });
    expect(sent.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(sim.ephemerals({ user: 'U1' }).map((e) => e.text)).toEqual(['only for alice']);
    expect(sim.ephemerals({ user: 'U2' })).toEqual([]);
    expect(channelTranscript(sim, 'C1', { viewer: 'U1' })).toContain(
      '(only you) rollback-bot: only for alice',
    );
  });

  it('opens modals with a fresh trigger only, updates them by id, publishes App Home per user', async () => {
    const modal = {
      type: 'modal' as const,
      callback_id: 'declare',
      title: { type: 'plain_text' as const, text: 'Declare' },
      blocks: [section('hi')],
    };
    const trigger = sim.issueTrigger('U1');
    const opened = await client.views.open({ trigger_id: trigger, view: modal });
    expect(opened.view).toMatchObject({ id: expect.stringMatching(/^V/) as string, callback_id: 'declare' });
    expect((await platformError(client.views.open({ trigger_id: trigger, view: modal }))).data.error).toBe(
      'exchanged_trigger_id',
    );
    expect((await platformError(client.views.open({ trigger_id: 'nope', view: modal }))).data.error).toBe(
      'invalid_trigger_id',
    );
    await client.views.update({
      view_id: opened.view!.id!,
      view: { ...modal, blocks: [section('updated')] },
    });
    expect(sim.view(opened.view!.id!)!.versions).toHaveLength(2);
    const home = { type: 'home' as const, blocks: [section('home')] };
    const first = await client.views.publish({ user_id: 'U1', view: home });
    const second = await client.views.publish({ user_id: 'U1', view: home });
    expect(second.view!.id).toBe(first.view!.id);
    expect(sim.homeView('U1')!.versions).toHaveLength(2);
  });
});

describe('other ways in', () => {
  it('accepts JSON bodies with the token in the body', async () => {
    const response = await fetch(`${sim.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ token: TOKEN, channel: 'C2', text: 'as json', blocks: [section('hi')] }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C2', message: { text: 'as json' } });
    expect(sim.callsTo('chat.postMessage')[0]!.args).not.toHaveProperty('token');
  });

  it('serves response_urls: ephemeral to the user by default, in_channel into the channel', async () => {
    const { id, url } = sim.createResponseUrl({ channel: 'C1', user: 'U1' });
    const post = (body: object) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ text: 'just you' })).status).toBe(200);
    expect((await post({ response_type: 'in_channel', text: 'everyone' })).status).toBe(200);
    expect(sim.responsePosts(id).map((p) => [p.response_type, p.text])).toEqual([
      ['ephemeral', 'just you'],
      ['in_channel', 'everyone'],
    ]);
    expect(sim.ephemerals({ user: 'U1' }).map((e) => e.text)).toEqual(['just you']);
    expect(sim.messages('C1').map((m) => m.text)).toEqual(['everyone']);
    expect((await fetch(`${url}x`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('errors as Slack gives them', () => {
  it('invalid_blocks at 51 blocks, with response_metadata.messages', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => section(`block ${i}`));
    const error = await platformError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks }));
    expect(error.data).toMatchObject({
      error: 'invalid_blocks',
      response_metadata: { messages: ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]'] },
    });
    await expect(
      client.chat.postMessage({ channel: 'C1', text: 'x', blocks: blocks.slice(0, 50) }),
    ).resolves.toMatchObject({
      ok: true,
    });
  });

  it('invalid_blocks for long section/header text, long button values and duplicated action_ids', async () => {
    const cases = [
      [section('x'.repeat(3001))],
      [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      [button('a', 'v'.repeat(2001))],
      [button('same', '1'), button('same', '2')],
    ];
    for (const blocks of cases) {
      const error = await platformError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks }));
      expect(error.data.error).toBe('invalid_blocks');
      expect(error.data.response_metadata?.messages?.[0]).toMatch(
        /^\[ERROR\] .* \[json-pointer:\/blocks\/\d+\//,
      );
    }
    await expect(
      client.chat.postMessage({ channel: 'C1', text: 'x', blocks: [section('x'.repeat(3000))] }),
    ).resolves.toMatchObject({ ok: true });
  });

  it('msg_too_long, no_text, channel_not_found, invalid_auth', async () => {
    expect(
      (await platformError(client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_001) }))).data.error,
    ).toBe('msg_too_long');
    expect((await platformError(client.chat.postMessage({ channel: 'C1', text: '' }))).data.error).toBe(
      'no_text',
    );
    expect((await platformError(client.chat.postMessage({ channel: 'C404', text: 'x' }))).data.error).toBe(
      'channel_not_found',
    );
    const stranger = new WebClient('xoxb-wrong', { slackApiUrl: sim.url, retryConfig: { retries: 0 } });
    expect((await platformError(stranger.auth.test())).data.error).toBe('invalid_auth');
    expect(sim.messages('C1')).toEqual([]);
  });

  it('ratelimited: 429 with Retry-After reaches the WebClient as a rate-limit error carrying retryAfter', async () => {
    sim.failNext('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 7 });
    const strict = new WebClient(TOKEN, {
      slackApiUrl: sim.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    const error = await strict.chat.postMessage({ channel: 'C1', text: 'x' }).then(
      () => undefined,
      (e: unknown) => e as WebAPIRateLimitedError,
    );
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
    expect(sim.callsTo('chat.postMessage')[0]).toMatchObject({
      status: 429,
      response: { error: 'ratelimited' },
    });
    // The fault was for one call only.
    await expect(strict.chat.postMessage({ channel: 'C1', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('http500 and injected platform errors, as many times as asked', async () => {
    sim.failNext('chat.update', { kind: 'http500' });
    sim.failNext('chat.postMessage', { kind: 'error', error: 'channel_not_found' }, 2);
    const posted = await platformError(client.chat.postMessage({ channel: 'C1', text: 'x' }));
    expect(posted.data.error).toBe('channel_not_found');
    await platformError(client.chat.postMessage({ channel: 'C1', text: 'x' }));
    const ok = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    await expect(client.chat.update({ channel: 'C1', ts: ok.ts!, text: 'y' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 500,
    });
    expect(sim.message('C1', ok.ts!)!.text).toBe('x');
  });

  it('a standing fault fails every call of one method until cleared; a hang gives no answer at all', async () => {
    sim.failAlways('usergroups.users.list', { kind: 'error', error: 'fatal_error' });
    sim.failNext('usergroups.users.list', { kind: 'http500' });
    // The queued fault first, then the standing one, as long as it stands; other methods answer.
    await expect(client.usergroups.users.list({ usergroup: 'S1' })).rejects.toMatchObject({
      statusCode: 500,
    });
    for (let i = 0; i < 3; i += 1) {
      expect((await platformError(client.usergroups.users.list({ usergroup: 'S1' }))).data.error).toBe(
        'fatal_error',
      );
    }
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });
    sim.clearFaults('usergroups.users.list');
    await expect(client.usergroups.users.list({ usergroup: 'S1' })).resolves.toMatchObject({
      users: ['U1', 'U2'],
    });

    sim.failAlways('usergroups.users.list', { kind: 'hang' });
    const patient = new WebClient(TOKEN, { slackApiUrl: sim.url, retryConfig: { retries: 0 }, timeout: 300 });
    await expect(patient.usergroups.users.list({ usergroup: 'S1' })).rejects.toThrow();
    expect(sim.callsTo('usergroups.users.list').at(-1)).toMatchObject({ status: 0 });
    sim.clearFaults();
    await expect(patient.usergroups.users.list({ usergroup: 'S1' })).resolves.toMatchObject({ ok: true });
  });

  it('a fault for a while ends by itself; a fault for matching calls hits only those', async () => {
    let now = Date.UTC(2026, 10, 23, 8, 0, 0);
    const timed = await startSlackSimulator({
      botToken: TOKEN,
      botUserId: 'UBOT',
      teamId: 'T1',
      channels: ['C1'],
      users: {},
      usergroups: {},
      now: () => now,
    });
    try {
      const local = new WebClient(TOKEN, {
        slackApiUrl: timed.url,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      });
      timed.failFor(
        ['chat.postMessage', 'chat.update'],
        { kind: 'ratelimited', retryAfterSeconds: 2 },
        6_000,
      );
      await expect(local.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
        code: ErrorCode.RateLimitedError,
        retryAfter: 2,
      });
      now += 5_999;
      await expect(local.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' })).rejects.toMatchObject({
        code: ErrorCode.RateLimitedError,
      });
      now += 1;
      const posted = await local.chat.postMessage({ channel: 'C1', text: 'x' });
      expect(posted.ok).toBe(true);

      timed.failWhen('chat.postMessage', (args) => JSON.stringify(args.blocks).includes('refuse me'), {
        kind: 'error',
        error: 'invalid_blocks',
      });
      await expect(
        local.chat.postMessage({ channel: 'C1', text: 'plain', blocks: [section('fine')] }),
      ).resolves.toMatchObject({ ok: true });
      const refused = await platformError(
        local.chat.postMessage({ channel: 'C1', text: 'x', blocks: [section('refuse me')] }),
      );
      expect(refused.data.error).toBe('invalid_blocks');
      // Once only, unless a count is given.
      await expect(
        local.chat.postMessage({ channel: 'C1', text: 'x', blocks: [section('refuse me')] }),
      ).resolves.toMatchObject({ ok: true });
    } finally {
      await timed.stop();
    }
  });
});
