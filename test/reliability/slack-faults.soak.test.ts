/**
 * Slack failing during a rollback (slack-faults-scenario.ts) at full length: Slack limits the bot
 * for a whole minute, then fails in bursts, then refuses one message. `npm run test:soak` only.
 */
import { expect, it } from 'vitest';
import { runSlackFaults } from './slack-faults-scenario.js';

const LIMITED_MS = 60_000;

it('Slack limits the bot for a minute during a rollback: nothing lost, nothing doubled, the card catches up', async () => {
  const figures = await runSlackFaults(LIMITED_MS);
  for (const ms of figures.ackMs) expect(ms).toBeLessThan(3_000);
  expect(figures.invalidBlocks).toBe(1);
  console.info(`slack-faults (soak): ${JSON.stringify(figures)}`);
}, 300_000);
