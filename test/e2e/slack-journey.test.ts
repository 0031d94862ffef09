/**
 * The whole journey through Slack's wire format: signed slash commands and clicks from the
 * simulator's driver, real Bolt, real Redis, real commands as steps, the card in the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeButtonValue } from '../../src/slack/blocks/kit.js';
import { channelTranscript } from '../../src/simulator/index.js';
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

async function declare(
  h: BotHarness,
  text = 'checkout --env production --to v1.4.1 --reason "5xx spike"',
): Promise<string> {
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.5.0',
    at: h.clock.now - 60_000,
  });
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text,
    expectResponses: 1,
  });
  expect(command.status).toBe(200);
  const answer = command.responses.map((r) => JSON.stringify(r)).join('\n');
  const id = /rb-[0-9a-f]+/.exec(answer)?.[0];
  if (!id) throw new Error(`no rollback id in the answer: ${answer}`);
  return id;
}

const cardOf = (h: BotHarness, id: string) =>
  h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));

const stateOf = async (h: BotHarness, id: string): Promise<string | undefined> =>
  (await h.store.getRollback(id))?.state;

describe('Slack journey (simulator, real Bolt, real Redis)', () => {
  it('declares, refuses an outsider, approves, runs, validates with a manual check and resolves', async () => {
    const h = (harness = await startBotHarness());
    const id = await declare(h);
    await eventually(() => cardOf(h, id), Boolean);

    const refused = await h.driver.click({
      user: PEOPLE.outsider,
      actionId: 'rollback:approve',
      value: forRollback(id),
    });
    expect(refused.status).toBe(200);
    await eventually(
      () =>
        h.sim
          .ephemerals({ user: PEOPLE.outsider })
          .map((e) => e.text)
          .join('\n'),
      (text) => /needs on-call-engineer or above/.test(text),
    );
    expect(await stateOf(h, id)).toBe('declared');

    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'validating',
    );
    await eventually(
      () => cardOf(h, id),
      (card) => JSON.stringify(card?.blocks).includes('rollback:check-done'),
    );
    await h.driver.click({
      user: PEOPLE.oncall,
      actionId: 'rollback:check-done',
      value: (v) => decodeButtonValue(v)?.rollbackId === id,
    });
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'resolved',
    );
    await eventually(
      () => JSON.stringify(cardOf(h, id)?.blocks),
      (blocks) => blocks.includes('resolved'),
    );

    const transcript = channelTranscript(h.sim, CHANNEL);
    expect(transcript).toContain('draining for v1.4.1');
    const api = await fetch(`http://127.0.0.1:${h.port}/api/rollbacks/${id}`, {
      headers: { authorization: 'Bearer e2e-api-token' },
    });
    expect(api.status).toBe(200);
    const body = (await api.json()) as {
      state: string;
      approvals: Array<{ user: string; role: string }>;
      timeline: unknown[];
    };
    expect(body.state).toBe('resolved');
    expect(body.approvals).toMatchObject([{ user: PEOPLE.oncall, role: 'on-call-engineer' }]);
  }, 60_000);
});
