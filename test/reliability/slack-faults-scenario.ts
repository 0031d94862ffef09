/**
 * Slack failing during a rollback, as one scenario the test and the soak run at two lengths: Slack
 * limits chat.postMessage and chat.update (429 with Retry-After) for `limitedMs`, then answers 500
 * in bursts, then refuses one message for its blocks (`invalid_blocks`). People click meanwhile.
 * What is counted: every notice of the run reaches the thread exactly once (the refused one as
 * plain text), the card ends showing the final state, clicks are acked within 3 s and their effects
 * apply, and no notice is given up.
 */
import { expect } from 'vitest';
import { createLogger } from '../../src/lib/logging.js';
import { decodeButtonValue } from '../../src/slack/blocks/kit.js';
import { channelTranscript } from '../../src/simulator/index.js';
import {
  declareBySlash,
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';

/** The thread of a run of the e2e `checkout` plan: each line a notice, posted once. */
export const NOTICES = [
  'declared a rollback of *checkout*',
  'Approval needed',
  'Authorized. Starting the 2 steps.',
  'step 1/2 *Drain blue* started',
  'step 1/2 *Drain blue* succeeded',
  'step 2/2 *Switch traffic* started',
  'step 2/2 *Switch traffic* succeeded',
  'Manual check *Smoke-test checkout*',
  'All 2 checks passed',
  'ROLLBACK COMPLETE',
  'Post-mortem draft',
  'Output of Drain blue',
  'Output of Switch traffic',
] as const;

const CHAT = ['chat.postMessage', 'chat.update'];
const BURSTS = 3;
const BURST_MS = 800;

export interface SlackFaultsFigures {
  limitedMs: number;
  /** Answers Slack gave to chat calls, by status (429, 500, 200). */
  answers: Record<string, number>;
  invalidBlocks: number;
  ackMs: number[];
  /** From the end of the last fault to the card showing `resolved`. */
  catchUpMs: number;
  /** Card edits Slack took, and the rollback's versions they covered (coalesced: fewer edits). */
  cardEdits: number;
  versions: number;
}

export async function runSlackFaults(limitedMs: number): Promise<SlackFaultsFigures> {
  const logged: Array<Record<string, unknown>> = [];
  const log = createLogger('warn', {
    write: (line: string) => {
      logged.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const h = await startBotHarness({ bot: { log } });
  try {
    return await scenario(h, limitedMs, logged);
  } catch (error) {
    console.error(channelTranscript(h.sim, CHANNEL));
    console.error(JSON.stringify(logged.slice(-20), null, 1));
    throw error;
  } finally {
    await h.stop();
  }
}

async function scenario(
  h: BotHarness,
  limitedMs: number,
  logged: Array<Record<string, unknown>>,
): Promise<SlackFaultsFigures> {
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.5.0',
    at: h.clock.now - 60_000,
  });
  const id = await declareBySlash(h, 'checkout --env production --to v1.4.1 --reason "slack failing"');
  const cardOf = () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));
  await eventually(
    () => thread(h, cardOf()!.ts).length,
    (n) => n >= 2,
  );

  // 1. Slack limits the bot's posts and edits; the on-call engineer approves meanwhile.
  h.sim.failFor(CHAT, { kind: 'ratelimited', retryAfterSeconds: 2 }, limitedMs);
  const limitedUntil = Date.now() + limitedMs;
  const approve = await h.driver.click({
    user: PEOPLE.oncall,
    actionId: 'rollback:approve',
    value: forRollback(id),
  });
  expect(approve.status).toBe(200);
  // The click's effect applies while Slack is still limiting: the rollback runs its steps.
  await eventually(
    async () => (await h.store.getRollback(id))?.state,
    (state) => state === 'validating',
    limitedMs + 30_000,
  );
  await sleep(limitedUntil - Date.now());

  // The card caught up with the validation once Slack answered: the manual check can be marked
  // done from it.
  await eventually(
    () => JSON.stringify(cardOf()?.blocks),
    (blocks) => blocks.includes('rollback:check-done'),
    30_000,
  );
  // 2. Then 500s in bursts, while the rollback resolves and says so; 3. and Slack refuses one
  // message for its blocks: the final notice.
  h.sim.failWhen(
    'chat.postMessage',
    (args) =>
      typeof args['text'] === 'string' &&
      args['text'].includes('ROLLBACK COMPLETE') &&
      Array.isArray(args['blocks']),
    { kind: 'error', error: 'invalid_blocks' },
    // However often those blocks are sent: Slack never takes them.
    Number.POSITIVE_INFINITY,
  );
  const bursts = (async () => {
    for (let burst = 0; burst < BURSTS; burst += 1) {
      h.sim.failFor(CHAT, { kind: 'http500' }, BURST_MS);
      await sleep(BURST_MS * 2);
    }
  })();
  const done = await h.driver.click({
    user: PEOPLE.oncall,
    actionId: 'rollback:check-done',
    value: (v) => decodeButtonValue(v)?.rollbackId === id,
  });
  expect(done.status).toBe(200);
  await bursts;
  const quietSince = Date.now();
  await eventually(
    async () => (await h.store.getRollback(id))?.state,
    (state) => state === 'resolved',
    30_000,
  );
  await eventually(
    () => JSON.stringify(cardOf()?.blocks),
    (blocks) => /resolved/i.test(blocks) && !blocks.includes('rollback:check-done'),
    30_000,
  );
  const catchUpMs = Date.now() - quietSince;
  // Step output is posted in the background: it may come up to one pause after Slack is back.
  await eventually(
    () => NOTICES.filter((n) => !thread(h, cardOf()!.ts).some((text) => text.includes(n))),
    (missing) => missing.length === 0,
    30_000,
  );
  // Anything posted twice, or late, shows now.
  await sleep(3_000);

  // The post-mortem's timeline repeats the notices' words: it is counted apart.
  const texts = thread(h, cardOf()!.ts);
  const notices = texts.filter((t) => !t.startsWith('Post-mortem draft'));
  const counts = Object.fromEntries(
    NOTICES.map((n) => [
      n,
      (n === 'Post-mortem draft' ? texts : notices).filter((t) => t.includes(n)).length,
    ]),
  );
  expect(counts, channelTranscript(h.sim, CHANNEL)).toEqual(Object.fromEntries(NOTICES.map((n) => [n, 1])));
  // In the order they were decided (step output goes its own way; the post-mortem comes last).
  const decided = NOTICES.filter((n) => !n.startsWith('Output of'));
  expect(decided.map((n) => texts.findIndex((t) => t.includes(n)))).toEqual(
    decided.map((n) => texts.findIndex((t) => t.includes(n))).sort((a, b) => a - b),
  );
  // The refused notice is there as plain text, its words intact.
  const complete = h.sim.replies(CHANNEL, cardOf()!.ts).find((m) => m.text.includes('ROLLBACK COMPLETE'))!;
  expect(JSON.stringify(complete.blocks)).not.toContain('ROLLBACK COMPLETE');
  expect(complete.text).toContain('Resolution: Rolled back checkout to version `v1.4.1`');
  // Nothing was given up.
  expect(logged.filter((line) => /giving up|given up/.test(String(line['msg'])))).toEqual([]);

  const answers: Record<string, number> = {};
  for (const call of h.sim.calls.filter((c) => CHAT.includes(c.method))) {
    const key = String(
      call.status === 200 && (call.response as { ok?: boolean }).ok === false ? 'refused' : call.status,
    );
    answers[key] = (answers[key] ?? 0) + 1;
  }
  return {
    limitedMs,
    answers,
    invalidBlocks: h.sim.calls.filter((c) => (c.response as { error?: string }).error === 'invalid_blocks')
      .length,
    ackMs: [approve.ackMs, done.ackMs],
    catchUpMs,
    cardEdits: h.sim
      .callsTo('chat.update')
      .filter((c) => c.status === 200 && (c.response as { ok?: boolean }).ok === true).length,
    versions: (await h.store.getRollback(id))!.version,
  };
}

function thread(h: BotHarness, ts: string): string[] {
  return h.sim.replies(CHANNEL, ts).map((m) => m.text);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
