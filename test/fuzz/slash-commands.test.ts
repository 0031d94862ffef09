/**
 * Fuzzing `/rollback`: 10,000 texts through the command grammar (random text, token soup of the
 * real words and flags with hostile ones, mutations of a real declaration), then a sample through
 * the real bot's signed slash-command route. The grammar never throws and refuses in a sentence;
 * the bot always answers, never with a failure of its own, and a refused command changes nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRollbackCommand } from '../../src/slack/command-grammar.js';
import { CHANNEL, PEOPLE, startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { CRASH_MARKS, fuzzParameters, fuzzRuns, fuzzTimeout, mutatedText } from '../support/fuzz.js';
import { settledFingerprint, stateFingerprint } from '../support/state-fingerprint.js';

const WORDS = [
  'checkout',
  'user-service',
  'help',
  'list',
  'status',
  'history',
  'plan',
  'cancel',
  'stats',
  'drill',
  'freeze',
  'on',
  'off',
  '--env',
  '-e',
  '--to',
  '--strategy',
  '--reason',
  '--env=production',
  '--to=',
  'production',
  'staging',
  'blue-green',
  'v1.4.1',
  '../x',
  '-rf',
  'rb-1',
  'rb-ffffff',
  '"quoted text"',
  '“curly quotes”',
  "'",
  '"',
  '“',
  '—',
  '\u202e',
  '\u200b',
  '\u0000',
  '\u001b[31m',
  '<!channel>',
  '<@U0ONCALL1>',
  '${env:SLACK_BOT_TOKEN}',
  '{{ toVersion }}',
  '=',
  '--',
  'x'.repeat(300),
];

const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\n', '\u00a0', '\u3000', '');
const tokenSoup = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...WORDS) },
        { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
      ),
      separator,
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.map(([word, gap]) => `${word}${gap}`).join(''));

const DECLARATION = 'checkout --env production --to v1.4.1 --strategy blue-green --reason "5xx spike"';

/** Commands as people type them: every subcommand, and declarations with any mix of the flags. */
const wellFormed: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'help',
    'list',
    'status',
    'status rb-1',
    'history',
    'history checkout',
    'plan checkout',
    'plan nosuch',
    'stats',
    'freeze',
    'freeze on',
    'freeze on checkout --reason "release train"',
    'freeze off',
    'freeze off checkout',
    'drill checkout',
    'cancel rb-1',
  ),
  fc
    .record(
      {
        service: fc.constantFrom('checkout', 'chekout', 'user-service'),
        env: fc.constantFrom('production', 'staging', 'prod', 'qa'),
        to: fc.constantFrom('v1.4.1', 'v1.5.0', '../x', '-rf', 'v9'),
        strategy: fc.constantFrom('blue-green', 'canary'),
        reason: fc.string({ maxLength: 60 }),
      },
      { requiredKeys: ['service'] },
    )
    .map(({ service, env, to, strategy, reason }) =>
      [
        service,
        env === undefined ? '' : `--env ${env}`,
        to === undefined ? '' : `--to ${to}`,
        strategy === undefined ? '' : `--strategy ${strategy}`,
        reason === undefined ? '' : `--reason "${reason.replace(/"/g, '')}"`,
      ].join(' '),
    ),
);

const commandTexts: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: wellFormed },
  { weight: 5, arbitrary: tokenSoup },
  { weight: 2, arbitrary: mutatedText(DECLARATION, WORDS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 120 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 3_000, maxLength: 4_000 }) },
);

describe('the /rollback grammar, fuzzed', () => {
  it(
    `never throws on ${fuzzRuns(10_000)} texts and refuses in one plain sentence`,
    () => {
      const seen = { accepted: 0, refused: 0 };
      fc.assert(
        fc.property(commandTexts, (text) => {
          const result = parseRollbackCommand(text);
          if (result.ok) {
            seen.accepted += 1;
            expect(result.command.kind).toMatch(/^[a-z]+$/);
          } else {
            seen.refused += 1;
            expect(result.message.length).toBeGreaterThan(10);
            expect(result.message.length).toBeLessThan(2_000);
            expect(result.message).not.toMatch(CRASH_MARKS);
          }
        }),
        fuzzParameters(fuzzRuns(10_000)),
      );
      console.info(`slash-command grammar fuzz: ${JSON.stringify(seen)}`);
      // Both kinds were reached: the generator is not all noise, nor all valid.
      expect(seen.accepted).toBeGreaterThan(fuzzRuns(10_000) / 20);
      expect(seen.refused).toBeGreaterThan(fuzzRuns(10_000) / 4);
    },
    fuzzTimeout(20_000),
  );
});

describe('/rollback through the bot, fuzzed (signed requests, real Bolt, real Redis)', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness();
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.5.0',
      at: h.clock.now - 60_000,
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it(
    `answers ${fuzzRuns(100)} fuzzed commands, none with a failure of its own, and a refused one changes nothing`,
    async () => {
      const counts = { answered: 0, accepted: 0, refused: 0, unchangedWhenRefused: 0, modals: 0 };
      let state = await stateFingerprint(h.store);
      await fc.assert(
        fc.asyncProperty(
          commandTexts,
          fc.constantFrom(PEOPLE.declarer, PEOPLE.oncall),
          async (text, user) => {
            const parsed = parseRollbackCommand(text);
            const modal = parsed.ok && parsed.command.kind === 'modal';
            const command = await h.driver.slashCommand({
              user,
              channel: CHANNEL,
              text,
              ...(modal ? {} : { expectResponses: 1 }),
            });
            expect(command.status).toBe(200);
            if (modal) {
              counts.modals += 1;
              expect(h.sim.callsTo('views.open')).toHaveLength(counts.modals);
              return;
            }
            const said = command.responses[0]?.text ?? '';
            expect(said, `no answer to ${JSON.stringify(text)}`).not.toBe('');
            counts.answered += 1;
            expect(said, `a failure of the bot's own for ${JSON.stringify(text)}`).not.toMatch(
              /^⚠️|Something went wrong/,
            );
            expect(said).not.toMatch(CRASH_MARKS);
            const after = await stateFingerprint(h.store);
            if (said.startsWith('🙅')) {
              counts.refused += 1;
              expect(after, `refused ${JSON.stringify(text)} changed the state`).toBe(state);
              counts.unchangedWhenRefused += 1;
            } else if ((counts.accepted += 1) && after !== state) {
              // An accepted command (a declaration, a freeze) may go on working after its answer.
              state = await settledFingerprint(h.store);
            }
          },
        ),
        fuzzParameters(fuzzRuns(100)),
      );
      console.info(`slash-command fuzz through the bot: ${JSON.stringify(counts)}`);
      const health = await fetch(`http://127.0.0.1:${h.port}/healthz`);
      expect(health.status).toBe(200);
      expect(counts.refused).toBeGreaterThan(0);
      expect(counts.accepted).toBeGreaterThan(fuzzRuns(100) / 40);
      expect(counts.unchangedWhenRefused).toBe(counts.refused);
    },
    fuzzTimeout(60_000),
  );
});
