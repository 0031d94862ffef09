/**
 * Clicks while Slack's `usergroups.users.list` fails or hangs (injected in the simulator), through
 * real Bolt and real Redis: without a recent answer the click is refused with "cannot check your
 * role now" and nothing changes; Slack's last answer stands in for at most ROLE_GRACE_MS; a person
 * removed from the group loses the role with the first answer that says so, and does not get it
 * back from older data while Slack fails again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ROLE_GRACE_MS } from '../../src/slack/role-directory.js';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';

const LIST = 'usergroups.users.list';
const CANNOT_CHECK =
  "Cannot check your role now (Slack's user groups did not answer) — nothing was changed, try again in a minute.";

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function declare(h: BotHarness, environment: string): Promise<string> {
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: `checkout --env ${environment} --to v1.4.1 --reason "5xx spike"`,
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0];
  if (!id) throw new Error(`no rollback id in ${JSON.stringify(command.responses)}`);
  await eventually(() => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)), Boolean);
  return id;
}

/**
 * What people did to the rollback, as the store has it: its state and the audit entries of people
 * (timers, such as the 5-minute reminder, write entries of their own as time passes).
 */
async function recordOf(h: BotHarness, id: string): Promise<{ state?: string; byPeople: string[] }> {
  const rollback = await h.store.getRollback(id);
  const audit = await h.store.readAudit(id);
  return {
    state: rollback?.state,
    byPeople: audit.filter((e) => e.by.startsWith('U')).map((e) => `${e.event} by ${e.by}`),
  };
}

/** Clicks Approve and waits for the ephemeral answer to the clicker. */
async function approve(h: BotHarness, user: string, id: string): Promise<string> {
  const before = h.sim.ephemerals({ user }).length;
  await h.driver.click({ user, actionId: 'rollback:approve', value: forRollback(id) });
  const said = await eventually(
    () => h.sim.ephemerals({ user }).slice(before),
    (answers) => answers.length > 0,
  );
  return said.map((e) => e.text).join('\n');
}

describe('role lookups failing (simulator fault injection, real Bolt, real Redis)', () => {
  it('refuses without a recent answer, uses one for at most the grace time, and never regrants on older data', async () => {
    const h = (harness = await startBotHarness({ bot: { roleLookupWaitMs: 300 } }));
    // Slack errs from the start (paging the approvers reads the group too): the bot never had an answer.
    h.sim.failAlways(LIST, { kind: 'error', error: 'fatal_error' });
    const production = await declare(h, 'production');
    const staging = await declare(h, 'staging');
    const untouched = await recordOf(h, production);
    expect(untouched).toEqual({ state: 'declared', byPeople: [`DECLARE by ${PEOPLE.declarer}`] });

    // Refused, nothing changed.
    expect(await approve(h, PEOPLE.oncall, production)).toContain(CANNOT_CHECK);
    expect(await recordOf(h, production)).toEqual(untouched);

    // Slack answers (the outsider's click reads the group): the bot now knows who is on call.
    h.sim.clearFaults(LIST);
    expect(await approve(h, PEOPLE.outsider, production)).toMatch(/needs on-call-engineer or above/);
    const answeredAt = h.clock.now;

    // Two minutes on Slack hangs: the answer of two minutes ago stands in, and the approval goes through.
    h.sim.failAlways(LIST, { kind: 'hang' });
    h.clock.now = answeredAt + 2 * 60_000;
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(staging) });
    await eventually(
      async () => (await recordOf(h, staging)).state,
      (state) => state !== 'declared',
    );

    // Past the grace time Slack still fails: refused again, the production rollback unchanged.
    h.sim.failAlways(LIST, { kind: 'http500' });
    h.clock.now = answeredAt + ROLE_GRACE_MS + 60_000;
    expect(await approve(h, PEOPLE.oncall, production)).toContain(CANNOT_CHECK);
    expect(await recordOf(h, production)).toEqual(untouched);

    // The on-call engineer leaves the group; the first answer that says so takes the role away...
    h.sim.clearFaults(LIST);
    h.sim.config.usergroups['S0ONCALL'] = [];
    expect(await approve(h, PEOPLE.oncall, production)).toMatch(/needs on-call-engineer or above/);
    // ...and while Slack fails again, the older answer that listed them does not come back.
    h.sim.failAlways(LIST, { kind: 'error', error: 'fatal_error' });
    h.clock.now += 30_000;
    expect(await approve(h, PEOPLE.oncall, production)).toMatch(/needs on-call-engineer or above/);
    expect(await recordOf(h, production)).toEqual(untouched);
    // Every lookup reached Slack: the refusals were decided on its answers, not on a guess.
    expect(h.sim.callsTo(LIST).length).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
