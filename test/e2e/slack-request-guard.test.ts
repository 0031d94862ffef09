/**
 * `POST /slack/events` refuses an unsigned, stale or oversized request from its headers, without
 * reading (and holding) the body (issue "Untrusted text stays text", F8): Bolt alone buffered up to
 * 4 MiB of anyone's body before checking the signature. Raw sockets show the answer comes before
 * the declared body does. A signed body is read, and a payload Bolt would throw on is refused.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { slackSignature } from '../../src/simulator/index.js';
import { CHANNEL, PEOPLE, SIGNING_SECRET, startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** The JSON object in a raw answer body (sent chunked: the chunk sizes surround it). */
function jsonIn(text: string): unknown {
  return JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1));
}

/** A request written by hand on a socket: headers, then only `bodyStart` of the declared body. */
function partialRequest(
  port: number,
  headers: Record<string, string>,
  bodyStart: string,
): Promise<{ status: number; text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in 3 s: the server waited for the body (got ${JSON.stringify(received)})`));
    }, 3_000);
    const done = () => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
      resolve({ status, text: received.slice(received.indexOf('\r\n\r\n') + 4), ms: Date.now() - started });
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.on('end', done);
    socket.on('close', () => {
      if (received !== '') done();
    });
    socket.on('error', () => undefined);
    const lines = Object.entries({ host: `127.0.0.1:${port}`, ...headers }).map(([k, v]) => `${k}: ${v}`);
    socket.write(`POST /slack/events HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${bodyStart}`);
  });
}

describe('POST /slack/events reads no body it would refuse', () => {
  const FOUR_MIB = String(4 * 1024 * 1024);

  it('refuses an unsigned request before its 4 MiB body arrives', async () => {
    const h = (harness = await startBotHarness());
    const answer = await partialRequest(
      h.port,
      { 'content-type': 'application/json', 'content-length': FOUR_MIB },
      '{"type":',
    );
    expect(answer.status).toBe(401);
    expect(jsonIn(answer.text)).toEqual({
      error: {
        code: 'unauthorized',
        message: 'a Slack request needs its X-Slack-Signature and X-Slack-Request-Timestamp',
      },
    });
    expect(answer.ms).toBeLessThan(2_000);
  }, 30_000);

  it('refuses a stale or future timestamp before reading the body', async () => {
    const h = (harness = await startBotHarness());
    for (const offset of [-10 * 60, 10 * 60]) {
      const timestamp = Math.floor(Date.now() / 1000) + offset;
      const answer = await partialRequest(
        h.port,
        {
          'content-type': 'application/json',
          'content-length': FOUR_MIB,
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, '{}'),
        },
        '{',
      );
      expect(answer.status).toBe(401);
      expect(answer.text).toContain('not within 5 minutes');
    }
  }, 30_000);

  it('refuses a signed body larger than a Slack payload (413), and still serves normal requests', async () => {
    const h = (harness = await startBotHarness());
    const timestamp = Math.floor(Date.now() / 1000);
    const declared = await partialRequest(
      h.port,
      {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(600 * 1024),
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, 'x'),
      },
      'command=',
    );
    expect(declared.status).toBe(413);
    expect(jsonIn(declared.text)).toEqual({
      error: { code: 'payload_too_large', message: `the body is larger than ${512 * 1024} bytes` },
    });
    // Sent in full and correctly signed, as a slash command with an absurd text.
    const fields = new URLSearchParams({
      command: '/rollback',
      text: `help ${'x'.repeat(600 * 1024)}`,
      user_id: PEOPLE.declarer,
      channel_id: CHANNEL,
      team_id: 'T0E2E',
      trigger_id: 'oversized',
    }).toString();
    const signed = await h.driver
      .sendSigned(fields, 'application/x-www-form-urlencoded')
      .catch((error: unknown) => error);
    if (signed instanceof Error) throw signed;
    expect((signed as { status: number }).status).toBe(413);

    const help = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'help',
      expectResponses: 1,
    });
    expect(help.status).toBe(200);
    expect(JSON.stringify(help.responses)).toContain('/rollback');
  }, 30_000);

  it('refuses a signed payload Bolt would throw on (400, with a sentence), and a forged one (401)', async () => {
    const h = (harness = await startBotHarness());
    const form = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const cases: Array<[string, string]> = [
      // Bolt read `body.ssl_check` of this outside any handler: the rejection ended the process.
      [form(null), 'a Slack payload is a JSON object'],
      [form(['block_actions']), 'a Slack payload is a JSON object'],
      // Bolt's router called `action_id.match(...)` on a number.
      [
        form({ type: 'block_actions', user: { id: PEOPLE.outsider }, actions: [{ action_id: 5 }] }),
        'a block_actions payload must have a valid `actions.0.action_id`',
      ],
      [form({ type: 'block_actions', actions: [{ action_id: 'rollback:approve' }] }), 'a valid `user`'],
      [
        new URLSearchParams({ command: '/rollback', text: 'help', channel_id: CHANNEL }).toString(),
        'a slash command must have a valid `user_id`',
      ],
    ];
    for (const [body, said] of cases) {
      const answer = await h.driver.sendSigned(body, 'application/x-www-form-urlencoded');
      expect(answer.status, body).toBe(400);
      expect(JSON.stringify(answer.body)).toContain(said);
    }
    const json = await h.driver.sendSigned('null', 'application/json');
    expect(json.status).toBe(400);
    const forged = await h.driver.sendSigned(form(null), 'application/x-www-form-urlencoded', {
      forge: true,
    });
    expect(forged.status).toBe(401);
    // Still serving, and still the same process.
    const help = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'help',
      expectResponses: 1,
    });
    expect(JSON.stringify(help.responses)).toContain('/rollback');
  }, 30_000);
});
