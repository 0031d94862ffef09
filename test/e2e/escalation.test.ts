/**
 * Who is paged, and when, through the whole bot: a reminder every `reminderEvery` (5m in the e2e
 * policy) mentioning the tier's user group, expiry after `expireAfter` (2h), and the periodic
 * status update every 5 minutes while a step runs (the seeds' "Updates: every 5 minutes").
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

async function declare(h: BotHarness, text: string): Promise<{ id: string; thread: () => string }> {
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text,
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0];
  if (!id) throw new Error(`no rollback id in ${JSON.stringify(command.responses)}`);
  const card = await eventually(
    () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)),
    Boolean,
  );
  return {
    id,
    thread: () =>
      h.sim
        .replies(CHANNEL, card!.ts)
        .map((r) => r.text)
        .join('\n'),
  };
}

/** The e2e policy with a checkout plan whose one step takes a while. */
function slowPlan(): string {
  const policy = readFileSync('test/fixtures/e2e/plans.yaml', 'utf8').split('\n---\n')[0]!;
  const plan = `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata:
  name: checkout
spec:
  service: checkout
  channel: ${CHANNEL}
  environments: [production]
  criticality: high
  rto: 15m
  authority: default
  defaultStrategy: slow
  strategies:
    slow:
      steps:
        - { name: Drain slowly, uses: command, with: { argv: ["sleep", "20"], timeout: 30s } }`;
  const file = join(mkdtempSync(join(tmpdir(), 'rollback-bot-slow-')), 'plans.yaml');
  writeFileSync(file, `${policy}\n---\n${plan}\n`);
  return file;
}

const later = (h: BotHarness, ms: number): void => {
  h.clock.now += ms;
  h.bot.runtime.timers.nudge();
};

describe('reminders, expiry and periodic updates', () => {
  it('reminds the on-call group every 5 minutes and expires the request after 2 hours', async () => {
    const h = (harness = await startBotHarness());
    const { id, thread } = await declare(h, 'checkout --env production --to v1.4.1 --reason "5xx spike"');
    later(h, 5 * 60_000 + 1_000);
    await eventually(
      thread,
      (text) =>
        /⏰ Reminder: the rollback of \*checkout\*/.test(text) && text.includes('<!subteam^S0ONCALL>'),
    );
    later(h, 2 * 60 * 60_000);
    await eventually(thread, (text) => /The approval request expired/.test(text));
    expect((await h.bot.reads.view(id))?.outcome?.code).toBe('expired');
  }, 60_000);

  it('posts a status update every 5 minutes while a step runs', async () => {
    const h = (harness = await startBotHarness({ planFile: slowPlan() }));
    const { id, thread } = await declare(h, 'checkout --env production --to v1.4.1 --reason "slow step"');
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () => h.bot.reads.view(id),
      (v) => v?.steps[0]?.status === 'running',
    );
    later(h, 5 * 60_000 + 1_000);
    await eventually(thread, (text) =>
      /ℹ️ Status of the rollback of \*checkout\* \(production\): executing/.test(text),
    );
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:abort', value: forRollback(id) });
    await eventually(
      () => h.bot.reads.view(id),
      (v) => v?.state === 'aborted',
    );
  }, 60_000);
});
