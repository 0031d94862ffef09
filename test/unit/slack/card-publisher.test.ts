import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logging.js';
import { CardPublisher } from '../../../src/slack/card-publisher.js';
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
});
