/**
 * The deployment freeze, drills and App Home through Slack's wire format (simulator, real Bolt,
 * real Redis): CI's view of the freeze over HTTP, refusals to people without a role, a drill
 * against staging that becomes the plan's "last tested", and the Home tab published on opening.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decodeButtonValue } from '../../src/slack/blocks/kit.js';
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

// The e2e plans plus one covering production only, which cannot be drilled.
const scratch = mkdtempSync(join(tmpdir(), 'rollback-bot-freeze-'));
const planFile = join(scratch, 'plans.yaml');
writeFileSync(
  planFile,
  readFileSync('test/fixtures/e2e/plans.yaml', 'utf8') +
    `---
apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata:
  name: ledger
spec:
  service: ledger
  channel: C0INCIDENTS
  environments: [production]
  criticality: high
  rto: 15m
  authority: default
  defaultStrategy: redeploy
  strategies:
    redeploy:
      steps:
        - name: Redeploy
          uses: command
          with: { argv: ["true"] }
`,
);
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

async function ask(h: BotHarness, text: string, user: string = PEOPLE.declarer) {
  const command = await h.driver.slashCommand({ user, channel: CHANNEL, text, expectResponses: 1 });
  expect(command.status).toBe(200);
  expect(command.responses).toHaveLength(1);
  const [response] = command.responses;
  return { ...response!, json: JSON.stringify(response) };
}

async function freezeOf(h: BotHarness, service: string, environment = 'production'): Promise<unknown> {
  const response = await fetch(
    `http://127.0.0.1:${h.port}/api/freeze?service=${service}&environment=${environment}`,
    { headers: { authorization: 'Bearer e2e-api-token' } },
  );
  expect(response.status).toBe(200);
  return response.json();
}

const homeText = (h: BotHarness, user: string): string => JSON.stringify(h.sim.homeView(user)?.blocks ?? []);

describe('deployment freeze', () => {
  it('is set and lifted by a role of the policy, answered to CI, refused to an outsider, shown in App Home', async () => {
    const h = (harness = await startBotHarness({ planFile }));
    expect(await freezeOf(h, 'checkout')).toEqual({ frozen: false });

    const outsider = await ask(h, 'freeze on checkout --reason "mine"', PEOPLE.outsider);
    expect(outsider.response_type).toBe('ephemeral');
    expect(outsider.text).toContain('only people with a role in the "default" authority policy');
    expect(await freezeOf(h, 'checkout')).toEqual({ frozen: false });

    const on = await ask(h, 'freeze on checkout --reason "release train"', PEOPLE.lead);
    expect(on.response_type).toBe('ephemeral');
    expect(on.text).toContain('Deploys of checkout to production are frozen: release train');
    expect(await freezeOf(h, 'checkout')).toEqual({
      frozen: true,
      reason: `frozen by ${PEOPLE.lead}: release train`,
    });
    expect(await freezeOf(h, 'checkout', 'staging')).toEqual({ frozen: false });
    expect((await ask(h, 'freeze on checkout', PEOPLE.oncall)).text).toContain('is already frozen by');
    expect((await ask(h, 'freeze on checkout --env qa', PEOPLE.lead)).text).toContain(
      'covers production, staging, not "qa"',
    );
    expect((await ask(h, 'freeze on chekout', PEOPLE.lead)).text).toContain('did you mean `checkout`');
    expect((await ask(h, 'freeze on')).text).toContain('only people with a role in an authority policy');

    // The outsider can neither lift it; the on-call engineer (through the user group) can.
    const refused = await ask(h, 'freeze off checkout', PEOPLE.outsider);
    expect(refused.response_type).toBe('ephemeral');
    expect(refused.text).toContain('may lift the freeze of checkout');
    expect(await freezeOf(h, 'checkout')).toMatchObject({ frozen: true });

    // A rollback freezes too: CI gets both reasons and the rollback's id.
    const declared = await ask(h, 'checkout --to v1.4.1');
    const id = /rb-[0-9a-f]+/.exec(declared.json)![0];
    expect(await freezeOf(h, 'checkout')).toEqual({
      frozen: true,
      reason: `rollback ${id} is declared; frozen by ${PEOPLE.lead}: release train`,
      rollbackId: id,
    });
    expect((await ask(h, 'freeze')).json).toContain('release train');

    // App Home for the user who opens it: the active rollback and both freezes.
    const opened = await h.driver.openAppHome({ user: PEOPLE.oncall });
    expect(opened.status).toBe(200);
    await eventually(
      () => homeText(h, PEOPLE.oncall),
      (text) =>
        text.includes(id) && text.includes('release train') && text.includes('Deployment freezes (2)'),
    );
    expect(h.sim.homeView(PEOPLE.declarer)).toBeUndefined();
    expect(h.sim.callsTo('views.publish').map((call) => call.args['user_id'])).toEqual([PEOPLE.oncall]);

    const off = await ask(h, 'freeze off checkout', PEOPLE.oncall);
    expect(off.text).toContain('Lifted the freeze of checkout in production');
    expect(off.json).toContain(`stay frozen until the rollback ends: rollback ${id} is declared`);
    expect(await freezeOf(h, 'checkout')).toEqual({
      frozen: true,
      reason: `rollback ${id} is declared`,
      rollbackId: id,
    });
    expect((await ask(h, 'freeze off checkout', PEOPLE.oncall)).text).toContain(
      'has no manual freeze to lift',
    );
    await ask(h, `cancel ${id}`, PEOPLE.oncall);
    expect(await freezeOf(h, 'checkout')).toEqual({ frozen: false });

    // Opening the Messages tab publishes nothing; opening Home again republishes the current state.
    await h.driver.openAppHome({ user: PEOPLE.oncall, tab: 'messages' });
    await h.driver.openAppHome({ user: PEOPLE.oncall });
    await eventually(
      () => homeText(h, PEOPLE.oncall),
      (text) => text.includes('Active rollbacks (0)') && text.includes('Recent rollbacks (1)'),
    );
    expect(h.sim.callsTo('views.publish')).toHaveLength(2);
  }, 60_000);

  it('freezes every service when none is named, until `/rollback freeze off`', async () => {
    const h = (harness = await startBotHarness({ planFile }));
    const refused = await ask(h, 'freeze on --reason "release train"', PEOPLE.outsider);
    expect(refused.text).toMatch(/only people with a role in an authority policy/);
    const on = await ask(h, 'freeze on --reason "release train"', PEOPLE.lead);
    expect(on.text).toContain('Deploys of every service to every environment are frozen: release train');
    expect(await freezeOf(h, 'checkout')).toEqual({
      frozen: true,
      reason: `frozen by ${PEOPLE.lead}: release train`,
    });
    expect(await freezeOf(h, 'ledger', 'staging')).toMatchObject({ frozen: true });
    const off = await ask(h, 'freeze off', PEOPLE.oncall);
    expect(off.text).toContain('Lifted the freeze of every service in every environment');
    expect(await freezeOf(h, 'checkout')).toEqual({ frozen: false });
  }, 60_000);
});

describe('drills', () => {
  it('runs against staging, is labelled, and becomes the plan’s "last tested"', async () => {
    const h = (harness = await startBotHarness({ planFile }));
    expect((await ask(h, 'plan checkout')).json).toContain('never drilled');
    expect((await ask(h, 'drill ledger')).text).toContain(
      'the ledger plan covers production but not staging, so it cannot be drilled',
    );
    expect((await ask(h, 'drill checkout')).text).toContain('no earlier deployment of checkout in staging');
    expect((await ask(h, 'drill checkout --strategy canary')).text).toContain('no strategy "canary"');

    const answer = await ask(h, 'drill checkout --to v1.3.0');
    expect(answer.text).toContain('Declared drill');
    const id = /rb-[0-9a-f]+/.exec(answer.json)![0];
    const api = (await (
      await fetch(`http://127.0.0.1:${h.port}/api/rollbacks/${id}`, {
        headers: { authorization: 'Bearer e2e-api-token' },
      })
    ).json()) as Record<string, unknown>;
    expect(api).toMatchObject({ environment: 'staging', drill: true, reason: 'drill', toVersion: 'v1.3.0' });
    // Production is not frozen by a drill; staging is, while it runs.
    expect(await freezeOf(h, 'checkout')).toEqual({ frozen: false });
    expect(await freezeOf(h, 'checkout', 'staging')).toMatchObject({ frozen: true, rollbackId: id });

    const card = await eventually(
      () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)),
      Boolean,
    );
    expect(JSON.stringify(card!.blocks)).toContain('DRILL');
    expect((await ask(h, 'list')).json).toContain('🧪 drill');

    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () => JSON.stringify(h.sim.messages(CHANNEL).find((m) => m.ts === card!.ts)?.blocks),
      (blocks) => blocks.includes('rollback:check-done'),
    );
    await h.driver.click({
      user: PEOPLE.oncall,
      actionId: 'rollback:check-done',
      value: (v) => decodeButtonValue(v)?.rollbackId === id,
    });
    await eventually(
      async () => (await h.store.getRollback(id))?.state,
      (state) => state === 'resolved',
    );

    const day = new Date(h.clock.now).toISOString().slice(0, 10);
    await eventually(
      async () => (await ask(h, 'plan checkout')).json,
      (text) => text.includes(`last tested: ${day} (drill ${id})`),
    );
    expect(await h.bot.drills.last('checkout', 'blue-green')).toMatchObject({
      rollbackId: id,
      by: PEOPLE.declarer,
    });

    await h.driver.openAppHome({ user: PEOPLE.declarer });
    await eventually(
      () => homeText(h, PEOPLE.declarer),
      (text) => text.includes(id) && text.includes('🧪 drill') && text.includes('Recent rollbacks (1)'),
    );
  }, 60_000);
});
