/**
 * The bot's Slack client fails fast, against the simulator: a 429 comes back at once with Slack's
 * Retry-After (and holds no other call back), an unanswered call is cut, and no call can outlive the
 * once-claim that keeps another replica from posting the same message.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logging.js';
import { startSlackSimulator, type SlackSimulator } from '../../../src/simulator/index.js';
import { SlackUnavailableError, slackError } from '../../../src/slack/slack-errors.js';
import { SLACK_CALL_POLICY, slackWebClient } from '../../../src/slack/web-client.js';
import { ONCE_CLAIM_TTL_MS } from '../../../src/store/once.js';

const TOKEN = 'xoxb-sim-token';
let sim: SlackSimulator;

beforeEach(async () => {
  sim = await startSlackSimulator({
    botToken: TOKEN,
    botUserId: 'UBOT',
    teamId: 'T1',
    channels: ['C1'],
    users: { UBOT: { name: 'rollback-bot' }, U1: { name: 'alice' } },
    usergroups: { S1: ['U1'] },
  });
});

afterEach(async () => {
  await sim.stop();
});

const client = (options: { timeoutMs?: number } = {}) =>
  slackWebClient({ token: TOKEN, apiUrl: sim.url, fetch: globalThis.fetch, log: silentLogger, ...options });

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.fail('the call succeeded'),
    (error: unknown) => slackError(error),
  );
}

describe('slackWebClient', () => {
  it('hands a 429 back at once with its Retry-After, and other calls go on meanwhile', async () => {
    sim.failFor('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 30 }, 60_000);
    const web = client();
    const began = Date.now();
    const error = await failure(web.chat.postMessage({ channel: 'C1', text: 'step 1/2 started' }));
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(SlackUnavailableError);
    expect((error as SlackUnavailableError).retryAfterMs).toBe(30_000);
    // A click's role lookup is not queued behind the limited method.
    await expect(web.usergroups.users.list({ usergroup: 'S1' })).resolves.toMatchObject({ users: ['U1'] });
  });

  it('cuts a call Slack does not answer, as Slack being away', async () => {
    sim.failNext('chat.update', { kind: 'hang' }, 2);
    const error = await failure(
      client({ timeoutMs: 200 }).chat.update({ channel: 'C1', ts: '1.1', text: 'x' }),
    );
    expect(error).toBeInstanceOf(SlackUnavailableError);
  });

  it('tries a call once more after a 500, not for minutes', async () => {
    sim.failNext('chat.postMessage', { kind: 'http500' }, 1);
    await expect(client().chat.postMessage({ channel: 'C1', text: 'declared' })).resolves.toMatchObject({
      ok: true,
    });
  });

  it('never outlives the once-claim of a post, retries included', () => {
    const { timeout, retryConfig } = SLACK_CALL_POLICY;
    const longest = timeout * (retryConfig.retries + 1) + retryConfig.maxTimeout * retryConfig.retries;
    expect(longest).toBeLessThan(ONCE_CLAIM_TTL_MS / 1.5);
  });
});
