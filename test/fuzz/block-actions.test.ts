/**
 * Fuzzing the card's buttons: mutated `block_actions` payloads (real clicks captured from the
 * simulator's driver, then broken; 250 in `npm test`, 1,000 in CI's short soak) through the door
 * of /slack/events and the bot's Bolt app (its parser, its router, the listeners), and a sample as
 * signed HTTP requests. Every base click is one the bot refuses (an outsider approving, rejecting,
 * cancelling), so no mutant may change anything; none may make a listener fail, and whoever can be
 * answered is answered in a sentence.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logging.js';
import { slackPayloadProblem } from '../../src/slack/payload-shape.js';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { CRASH_MARKS, fuzzParameters, fuzzRuns, fuzzTimeout, mutatedJson } from '../support/fuzz.js';
import { stateFingerprint } from '../support/state-fingerprint.js';

/**
 * Clicks routed in `npm test` (each goes through Redis and answers the clicker over HTTP, ~10 ms of
 * CPU); the CI's short soak (FUZZ_SCALE=4) routes 1,000, `npm run test:soak` 2,500.
 */
const CLICK_RUNS = 250;

let h: BotHarness;
/** The bot's warnings and errors, as JSON lines. */
const logged: Array<{ level: number; msg: string }> = [];
/** Clicks captured on the wire, as Slack sends them (the `payload` form field, parsed). */
const clicks: unknown[] = [];

beforeAll(async () => {
  h = await startBotHarness({
    bot: {
      log: createLogger('warn', {
        write: (line: string) => {
          logged.push(JSON.parse(line) as { level: number; msg: string });
        },
      }),
    },
  });
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: 'checkout --env production --to v1.4.1 --reason "5xx spike"',
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0] ?? 'none';
  await eventually(() => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)), Boolean);
  for (const actionId of ['rollback:approve', 'rollback:reject', 'rollback:cancel']) {
    const click = await h.driver.click({ user: PEOPLE.outsider, actionId, value: forRollback(id) });
    expect(click.status).toBe(200);
    clicks.push(JSON.parse(new URLSearchParams(click.request.body).get('payload') ?? 'null'));
  }
  // The outsider was refused each time, in a sentence.
  await eventually(
    () => h.sim.ephemerals({ user: PEOPLE.outsider }).length,
    (n) => n >= 3,
  );
});
afterAll(async () => {
  await h.stop();
});

let unique = 0;
/**
 * A mutant with its own trigger and action time (where it still has them as text): otherwise it
 * would be dropped as a repeat of the click it came from before any listener saw it.
 */
function fresh(mutant: unknown): unknown {
  unique += 1;
  if (mutant === null || typeof mutant !== 'object' || Array.isArray(mutant)) return mutant;
  const body = mutant as Record<string, unknown>;
  if (typeof body['trigger_id'] === 'string') body['trigger_id'] = `fuzz.${unique}.${body['trigger_id']}`;
  const [action] = Array.isArray(body['actions']) ? (body['actions'] as unknown[]) : [];
  if (
    action !== null &&
    typeof action === 'object' &&
    typeof (action as Record<string, unknown>)['action_ts'] === 'string'
  ) {
    (action as Record<string, unknown>)['action_ts'] = `${Date.now() / 1000 + unique}`;
  }
  return body;
}

const mutantClicks = (): fc.Arbitrary<unknown> =>
  fc
    .constantFrom(...clicks)
    .chain((click) => mutatedJson(click))
    .map(fresh);

/** Failures the bot logged since line `from`: a listener that threw, a request failed after the ack. */
const failures = (from = 0): string[] =>
  logged
    .slice(from)
    .filter(
      (line) =>
        line.level >= 50 && /unhandled Slack listener error|failed after the ack|route failed/.test(line.msg),
    )
    .map((line) => JSON.stringify(line).slice(0, 600));

describe('block_actions payloads, fuzzed', () => {
  it(
    `routes ${fuzzRuns(CLICK_RUNS)} mutated clicks through Bolt and the listeners: nothing changes, nothing fails`,
    async () => {
      const state = await stateFingerprint(h.store);
      const seen = { refusedAtTheDoor: 0, acked: 0, notAcked: 0, answered: 0 };
      const ephemerals = () => h.sim.ephemerals().length;
      await fc.assert(
        fc.asyncProperty(mutantClicks(), async (body) => {
          const before = ephemerals();
          const logFrom = logged.length;
          // The door of /slack/events refuses a payload Bolt must not see, as it would over HTTP.
          const form = new URLSearchParams({ payload: JSON.stringify(body) }).toString();
          const problem = slackPayloadProblem('application/x-www-form-urlencoded', form);
          if (problem !== null) {
            seen.refusedAtTheDoor += 1;
            expect(problem).not.toMatch(CRASH_MARKS);
            return;
          }
          let acks = 0;
          await h.bot.app.processEvent({
            body: body as Record<string, unknown>,
            ack: () => {
              acks += 1;
              return Promise.resolve();
            },
          });
          expect(acks).toBeLessThanOrEqual(1);
          if (acks === 1) seen.acked += 1;
          else seen.notAcked += 1;
          expect(failures(logFrom), JSON.stringify(body).slice(0, 500)).toEqual([]);
          for (const said of h.sim.ephemerals().slice(before)) {
            seen.answered += 1;
            expect(said.text).not.toMatch(/^⚠️|Something went wrong/);
            expect(said.text).not.toMatch(CRASH_MARKS);
          }
          expect(ephemerals()).toBeGreaterThanOrEqual(before);
        }),
        fuzzParameters(fuzzRuns(CLICK_RUNS)),
      );
      console.info(`block_actions fuzz through Bolt: ${JSON.stringify(seen)}`);
      expect(await stateFingerprint(h.store)).toBe(state);
      expect(seen.answered).toBeGreaterThan(0);
    },
    fuzzTimeout(60_000),
  );

  it(
    `answers ${fuzzRuns(40)} mutated clicks sent as signed requests, never with a 5xx`,
    async () => {
      const state = await stateFingerprint(h.store);
      const logFrom = logged.length;
      const statuses: Record<number, number> = {};
      const bodies = fc.sample(mutantClicks(), { seed: 7, numRuns: fuzzRuns(40) });
      // All at once: a delivery no listener takes is answered 404 only after Bolt's 3 s wait.
      const answers = await Promise.all(
        bodies.map((body) =>
          h.driver.sendSigned(
            new URLSearchParams({ payload: JSON.stringify(body) }).toString(),
            'application/x-www-form-urlencoded',
          ),
        ),
      );
      for (const answer of answers) {
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        expect(answer.status).toBeLessThan(500);
      }
      console.info(`block_actions fuzz over HTTP: ${JSON.stringify(statuses)}`);
      expect(failures(logFrom)).toEqual([]);
      expect(await stateFingerprint(h.store)).toBe(state);
      expect((await fetch(`http://127.0.0.1:${h.port}/healthz`)).status).toBe(200);
    },
    fuzzTimeout(30_000),
  );
});
