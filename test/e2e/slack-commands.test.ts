/**
 * The other `/rollback` commands and how the bot behaves when Slack misbehaves: help, typos, the
 * dry-run plan with secrets masked, refusals naming the active rollback, Slack 429 and 500.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function ask(
  h: BotHarness,
  text: string,
  user: string = PEOPLE.declarer,
  channel = CHANNEL,
): Promise<string> {
  const command = await h.driver.slashCommand({ user, channel, text, expectResponses: 1 });
  expect(command.status).toBe(200);
  return JSON.stringify(command.responses);
}

describe('/rollback commands', () => {
  it('helps, suggests, previews the plan without secrets, and names the active rollback', async () => {
    const h = (harness = await startBotHarness({ env: { E2E_FAIL_SWITCH: 'super-secret-value' } }));
    expect(await ask(h, 'help')).toContain('/rollback');
    expect(await ask(h, 'chekout --to v1')).toContain('did you mean `checkout`');
    expect(await ask(h, 'stauts')).toContain('/rollback status');
    const preview = await ask(h, 'plan checkout');
    expect(preview).toContain('draining for (target version)');
    expect(preview).toContain('•••');
    expect(preview).not.toContain('super-secret-value');
    expect(await ask(h, 'checkout')).toContain('--to VERSION');

    const first = await ask(h, 'checkout --to v1.4.1', PEOPLE.declarer, 'C0ELSEWHERE');
    const id = /rb-[0-9a-f]+/.exec(first)?.[0];
    expect(first).toContain(`<#${CHANNEL}>`);
    expect(id).toBeDefined();
    expect(await ask(h, 'checkout --to v1.4.0')).toContain(`already has an active rollback: ${id!}`);
    expect(await ask(h, `status ${id!}`)).toContain(id!);
    expect(await ask(h, 'list')).toContain(id!);
    expect(await ask(h, 'stats')).toContain('Time to detect');
  }, 60_000);

  it('refuses a --to that is not a version, and invisible characters, before anything is declared', async () => {
    const h = (harness = await startBotHarness());
    const said = async (text: string): Promise<string> => {
      const command = await h.driver.slashCommand({
        user: PEOPLE.declarer,
        channel: CHANNEL,
        text,
        expectResponses: 1,
      });
      expect(command.status).toBe(200);
      expect(command.responses).toHaveLength(1);
      expect(command.responses[0]!.response_type).toBe('ephemeral');
      return command.responses[0]!.text;
    };
    // Once made an http step send `POST /admin/purge?all=true`.
    expect(await said("checkout --to '../../../admin/purge?all=true#'")).toBe(
      "🙅 `--to`: a version is letters, digits and . _ + - (at most 128, starting with a letter or digit): '../../../admin/purge?all=true#' starts with '.'.",
    );
    // Once reached a deploy script as an option.
    expect(await said("checkout --to '--log-file=/tmp/x'")).toContain("'--log-file=/tmp/x' starts with '-'");
    expect(await said('checkout --to v1.4.1\u202E1')).toBe(
      '🙅 the value of `--to` has \\u202E (a bidirectional formatting character); type it again without it.',
    );
    expect(await said('checkout --to v1.4.1 --reason "deploy\u0007 broke it"')).toContain(
      'the value of `--reason` has \\u0007 (a control character)',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await h.store.listRollbacks()).toEqual([]);
    expect(h.sim.callsTo('chat.postMessage')).toEqual([]);
  }, 60_000);

  it('gets the card through Slack rate limiting and a Slack outage', async () => {
    const h = (harness = await startBotHarness());
    h.sim.failNext('chat.postMessage', { kind: 'http500' }, 1);
    const answer = await ask(h, 'checkout --to v1.4.1');
    const id = /rb-[0-9a-f]+/.exec(answer)![0];
    // The effect that posts the card failed once; the outbox delivers it again.
    const card = await eventually(
      () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)),
      Boolean,
      15_000,
    );
    h.sim.failNext('chat.update', { kind: 'ratelimited', retryAfterSeconds: 1 }, 1);
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () => h.sim.message(CHANNEL, card!.ts),
      (message) =>
        (message?.versions.length ?? 0) > 1 && !JSON.stringify(message?.blocks).includes('rollback:approve'),
      15_000,
    );
    expect(h.sim.callsTo('chat.update').some((call) => call.status === 429)).toBe(true);
  }, 60_000);
});
