import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logging.js';
import { WebAPIPlatformError, WebAPIRateLimitedError } from '@slack/web-api';
import { CardPublisher } from '../../../src/slack/card-publisher.js';
import { SlackUnavailableError } from '../../../src/slack/slack-errors.js';
import { MemoryStore } from '../../../src/store/index.js';

describe('CardPublisher', () => {
  it('posts one card when notices and redraws of a new rollback arrive at the same time', async () => {
    const posted: Array<{ channel: string; thread_ts?: string }> = [];
    let next = 0;
    const client = {
      chat: {
        async postMessage(args: { channel: string; text: string; thread_ts?: string }) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          posted.push(args);
          next += 1;
          return { ts: `1.00000${next}`, channel: args.channel };
        },
        update: () => Promise.resolve({}),
      },
    };
    const cards = new CardPublisher({
      client,
      store: new MemoryStore(),
      log: silentLogger,
      draw: () => Promise.resolve({ channel: 'C1', message: { text: 'card' } }),
    });
    await Promise.all([
      cards.reply('rb-1', { text: 'declared' }),
      cards.reply('rb-1', { text: 'approval requested' }),
      cards.refresh('rb-1'),
    ]);
    const tops = posted.filter((p) => p.thread_ts === undefined);
    expect(tops).toHaveLength(1);
    expect(posted.filter((p) => p.thread_ts !== undefined)).toHaveLength(2);
    expect(await cards.address('rb-1')).toEqual({ channel: 'C1', ts: '1.000001' });
  });

  it('sends a message Slack refuses for its blocks as its plain text, and logs it; Slack away is typed', async () => {
    const calls: Array<{ method: string; args: { text: string; blocks?: unknown[] } }> = [];
    let limited = false;
    const refuse = (args: { blocks?: unknown[] }) =>
      JSON.stringify(args.blocks ?? []).includes('bad')
        ? new WebAPIPlatformError({ ok: false, error: 'invalid_blocks' })
        : null;
    const client = {
      chat: {
        postMessage(args: { channel: string; text: string; blocks?: unknown[]; thread_ts?: string }) {
          calls.push({ method: 'post', args });
          if (limited) return Promise.reject(new WebAPIRateLimitedError(7));
          const refused = refuse(args);
          return refused
            ? Promise.reject(refused)
            : Promise.resolve({ ts: '1.000001', channel: args.channel });
        },
        update(args: { channel: string; ts: string; text: string; blocks?: unknown[] }) {
          calls.push({ method: 'update', args });
          const refused = refuse(args);
          return refused ? Promise.reject(refused) : Promise.resolve({});
        },
      },
    };
    const lines: string[] = [];
    const log = {
      ...silentLogger,
      error: (_fields: unknown, msg: string) => lines.push(msg),
    } as unknown as typeof silentLogger;
    const section = (text: string) => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text } });
    let card = 'card';
    const cards = new CardPublisher({
      client,
      store: new MemoryStore(),
      log,
      draw: () => Promise.resolve({ channel: 'C1', message: { text: card, blocks: [section(card)] } }),
    });
    await cards.reply('rb-1', { text: 'ROLLBACK COMPLETE', blocks: [section('bad')] });
    card = 'bad card';
    await cards.refresh('rb-1');
    expect(calls.map((c) => [c.method, c.args.text, c.args.blocks?.length])).toEqual([
      ['post', 'card', 1],
      ['post', 'ROLLBACK COMPLETE', 1],
      ['post', 'ROLLBACK COMPLETE', undefined],
      ['update', 'bad card', 1],
      // An update without blocks keeps the old ones in Slack: empty blocks replace them.
      ['update', 'bad card', 0],
    ]);
    expect(lines).toEqual([
      'Slack refused the blocks of a message; sending its plain text instead',
      'Slack refused the blocks of a message; sending its plain text instead',
    ]);
    limited = true;
    const error = await cards.reply('rb-1', { text: 'later' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackUnavailableError);
    expect(error).toMatchObject({ code: 'slack_unavailable', retryable: true, retryAfterMs: 7_000 });
  });
});
