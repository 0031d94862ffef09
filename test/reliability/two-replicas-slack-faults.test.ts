/**
 * Slack limiting two replicas during a rollback (the shipped bot, its own Slack call policy): the
 * rollback's effects are taken by either replica and retried by whichever reclaims them, so a
 * notice that failed on one may come back on the other. Counted: every notice in the thread once,
 * in the order it was decided; the card catches up; nothing given up.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { declareBySlash, CHANNEL, eventually, forRollback, PEOPLE } from '../support/bot-harness.js';
import { startReplicaPair, type ReplicaPair } from '../support/replica-pair.js';

const LIMITED_MS = 20_000;
const CHAT = ['chat.postMessage', 'chat.update'];

/** The thread of a run of the outage `checkout` plan, in the order its notices are decided. */
const NOTICES = [
  'declared a rollback of *checkout*',
  'Approval needed',
  'Authorized. Starting the 2 steps.',
  'step 1/2 *Long step* started',
  'step 1/2 *Long step* succeeded',
  'step 2/2 *Short step* started',
  'step 2/2 *Short step* succeeded',
  'ROLLBACK COMPLETE',
];

let pair: ReplicaPair | undefined;
afterAll(async () => {
  await pair?.stop();
}, 30_000);

it('Slack limits both replicas during a rollback: each notice once and in order, the card catches up', async () => {
  pair = await startReplicaPair({
    plans: async (dir) => {
      const planFile = path.join(dir, 'plans.yaml');
      await copyFile('test/fixtures/e2e/outage-plans.yaml', planFile);
      return planFile;
    },
    env: (dir) => ({ OUTAGE_RUNS: path.join(dir, 'runs') }),
  });
  const { sim, store, driver, replicas } = pair;
  const id = await declareBySlash(pair, 'checkout --env production --to v1 --reason "slack failing"');
  const cardOf = () => sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));
  await eventually(
    () => (cardOf() ? sim.replies(CHANNEL, cardOf()!.ts).length : 0),
    (n) => n >= 2,
  );

  sim.failFor(CHAT, { kind: 'ratelimited', retryAfterSeconds: 2 }, LIMITED_MS);
  const approve = await driver.click({
    user: PEOPLE.oncall,
    actionId: 'rollback:approve',
    value: forRollback(id),
  });
  expect(approve.status).toBe(200);
  await eventually(
    () => store.getRollback(id),
    (rollback) => rollback?.state === 'resolved',
    LIMITED_MS + 30_000,
  );
  const thread = await eventually(
    () => sim.replies(CHANNEL, cardOf()!.ts).map((m) => m.text),
    (texts) => texts.some((text) => text.includes('ROLLBACK COMPLETE')),
    90_000,
  );
  await eventually(
    () => JSON.stringify(cardOf()?.blocks),
    (blocks) => /resolved/i.test(blocks),
    30_000,
  );

  // A notice's own message starts with it (the post-mortem's timeline quotes them too).
  const firstLines = thread.map((text) => text.split('\n')[0] ?? '');
  const positions = NOTICES.map((notice) => {
    const matching = firstLines.filter((line) => line.includes(notice));
    expect(matching, `${notice}: posted once in\n${thread.join('\n')}`).toHaveLength(1);
    return firstLines.findIndex((line) => line.includes(notice));
  });
  expect(positions, `the thread in decided order:\n${thread.join('\n')}`).toEqual(
    [...positions].sort((a, b) => a - b),
  );
  expect(new Set(thread).size, 'no message posted twice').toBe(thread.length);
  const limited = CHAT.flatMap((method) => sim.callsTo(method)).filter((call) => call.status === 429).length;
  const logs = replicas.map((replica) => replica.output()).join('\n');
  expect(logs).not.toContain('giving up');
  console.info(
    `two replicas, Slack limited ${LIMITED_MS / 1_000} s: ${thread.length} thread messages, each once, in order; ${limited} calls answered 429; served ${JSON.stringify(pair.proxy.served)}`,
  );
}, 180_000);
