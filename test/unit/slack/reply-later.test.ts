/**
 * Replies posted in the background (step output, warnings): tried again while Slack is limiting or
 * failing, never when Slack refused the message itself, and given up at shutdown.
 */
import { WebAPIHTTPError, WebAPIPlatformError } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logging.js';
import { CardDrawer } from '../../../src/slack/card-drawer.js';
import { RollbackCards } from '../../../src/slack/rollback-cards.js';
import { COLLECTIONS } from '../../../src/store/collections.js';
import { MemoryStore } from '../../../src/store/index.js';

async function setup(answers: Array<Error | 'ok'>) {
  const store = new MemoryStore();
  await store.putDoc(COLLECTIONS.slackCards, 'rb-1', { channel: 'C1', ts: '1.000001' }, 0);
  const tries: string[] = [];
  const client = {
    chat: {
      postMessage(args: { text: string }) {
        tries.push(args.text);
        const answer = answers.shift() ?? 'ok';
        return answer === 'ok' ? Promise.resolve({ ts: '1.000002' }) : Promise.reject(answer);
      },
      update: () => Promise.resolve({}),
    },
  };
  const cards = new RollbackCards({
    client,
    store,
    reads: { record: () => Promise.resolve(null) },
    // Replies draw no card: the card's address is stored already.
    drawer: new CardDrawer({
      reads: {
        record: () => Promise.resolve(null),
        viewOf: () => {
          throw new Error('no card is drawn here');
        },
      },
      catalog: () => ({ plans: new Map(), policies: new Map() }),
      groupMembers: () => Promise.resolve([]),
      now: Date.now,
    }),
    incidentMessages: {
      ensure: () => Promise.resolve(null),
      refresh: () => Promise.resolve(),
      reply: () => Promise.resolve(),
    },
    log: silentLogger,
  });
  return { cards, tries };
}

const http500 = () => new WebAPIHTTPError(500, 'Internal Server Error', {}, '');

describe('RollbackCards.replyLater', () => {
  it('tries again while Slack fails, and resolves after the first try', async () => {
    const { cards, tries } = await setup([http500(), http500()]);
    await cards.replyLater('rb-1', { text: 'Output of Drain blue' }, 'step output');
    expect(tries).toEqual(['Output of Drain blue']);
    await cards.settled();
    expect(tries).toEqual(['Output of Drain blue', 'Output of Drain blue', 'Output of Drain blue']);
  });

  it('does not try a message Slack refused again', async () => {
    const { cards, tries } = await setup([
      new WebAPIPlatformError({ ok: false, error: 'channel_not_found' }),
    ]);
    await cards.replyLater('rb-1', { text: 'warning' }, 'a warning');
    await cards.settled();
    expect(tries).toEqual(['warning']);
  });

  it('gives up what still waits at shutdown', async () => {
    const { cards, tries } = await setup(Array.from({ length: 50 }, http500));
    await cards.replyLater('rb-1', { text: 'warning' }, 'a warning');
    cards.close();
    await cards.settled();
    expect(tries.length).toBeLessThanOrEqual(2);
  });
});
