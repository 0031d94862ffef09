/**
 * Slack failing during a rollback (slack-faults-scenario.ts), with Slack limiting the bot for 6 s:
 * long enough for every notice of the running rollback to be refused at least once. The soak runs
 * it with a whole minute (slack-faults.soak.test.ts).
 */
import { expect, it } from 'vitest';
import { runSlackFaults } from './slack-faults-scenario.js';

const LIMITED_MS = 6_000;

it('Slack limits, fails and refuses the bot during a rollback: nothing lost, nothing doubled, the card catches up', async () => {
  const figures = await runSlackFaults(LIMITED_MS);
  for (const ms of figures.ackMs) expect(ms).toBeLessThan(3_000);
  expect(figures.answers['429']).toBeGreaterThan(0);
  expect(figures.answers['500']).toBeGreaterThan(0);
  expect(figures.invalidBlocks).toBe(1);
  console.info(`slack-faults: ${JSON.stringify(figures)}`);
}, 180_000);
