/**
 * Steps after resolution (issue 14) through the whole bot: a blue-green rollback resolves, and the
 * old colour is scaled down 5 s later (5m in the example plan) on the durable timer, by the real
 * command executor, reported in the thread and on the card; a failing clean-up is reported and
 * counted without reopening the rollback; a new rollback of the service calls a pending one off.
 * The harness clock only moves when the test moves it: the timer poller reads it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RollbackView } from '../../src/app/rollback-view.js';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';

const PLANS = 'test/fixtures/e2e/after-plans.yaml';

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function declare(h: BotHarness, service: string): Promise<string> {
  await h.store.recordDeployment({ service, environment: 'production', version: 'v2.0.0', at: h.clock.now });
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: `${service} --to v1.9.0 --reason "5xx after the switch"`,
    expectResponses: 1,
  });
  const answer = command.responses.map((r) => JSON.stringify(r)).join('\n');
  const id = /rb-[0-9a-f]+/.exec(answer)?.[0];
  if (!id) throw new Error(`no rollback id in the answer: ${answer}`);
  await eventually(() => cardOf(h, id), Boolean);
  return id;
}

const cardOf = (h: BotHarness, id: string) =>
  h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));

const cardText = (h: BotHarness, id: string): string => JSON.stringify(cardOf(h, id)?.blocks ?? []);

const thread = (h: BotHarness, id: string): string =>
  h.sim
    .replies(CHANNEL, cardOf(h, id)!.ts)
    .map((r) => `${r.text} ${JSON.stringify(r.blocks)}`)
    .join('\n');

const view = async (h: BotHarness, id: string): Promise<RollbackView> => (await h.bot.reads.view(id))!;

/** Declared and approved: the steps and the probe run, and it resolves on its own. */
async function resolve(h: BotHarness, service: string): Promise<{ id: string; resolvedAt: number }> {
  const id = await declare(h, service);
  await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
  const resolved = await eventually(
    () => view(h, id),
    (v) => v.state === 'resolved',
  );
  return { id, resolvedAt: Date.parse(resolved.outcome!.at) };
}

/** Moves the bot's clock and lets the timer poller look at once. */
function advance(h: BotHarness, ms: number): void {
  h.clock.now += ms;
  h.bot.runtime.timers.nudge();
}

async function metric(h: BotHarness, outcome: string): Promise<number> {
  const { body } = await h.bot.metrics.render();
  const line = body
    .split('\n')
    .find((l) => l.startsWith('rollback_bot_after_steps_total{') && l.includes(`outcome="${outcome}"`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('steps after resolution (simulator, real Bolt, real Redis)', () => {
  it('scales the old colour down 5 s after the switch, reported in the thread and on the card', async () => {
    const h = (harness = await startBotHarness({ planFile: PLANS }));
    const { id, resolvedAt } = await resolve(h, 'checkout');

    // Resolved for everyone at once: the card, the API, the lock (a new rollback could be declared).
    const planned = await view(h, id);
    expect(planned.afterSteps).toMatchObject([
      { name: 'Scale down green', status: 'pending', dueAt: new Date(resolvedAt + 5_000).toISOString() },
    ]);
    expect(await h.store.activeRollbackId('checkout', 'production')).toBeNull();
    await eventually(
      () => thread(h, id),
      (text) => text.includes('ROLLBACK COMPLETE') && text.includes('One step runs after the resolution'),
    );
    await eventually(
      () => cardText(h, id),
      (blocks) => blocks.includes('After resolution') && blocks.includes('due '),
    );

    // Not before its time.
    h.bot.runtime.timers.nudge();
    await new Promise((r) => setTimeout(r, 500));
    expect((await view(h, id)).afterSteps[0]?.status).toBe('pending');

    advance(h, 5_000);
    const ran = await eventually(
      () => view(h, id),
      (v) => v.afterSteps[0]?.status === 'succeeded',
    );
    const started = Date.parse(ran.afterSteps[0]!.startedAt!);
    expect(started - resolvedAt).toBeGreaterThanOrEqual(5_000);
    expect(started - resolvedAt).toBeLessThan(6_000);
    expect(ran.state).toBe('resolved');
    expect(ran.outcome?.code).toBe('resolved');

    await eventually(
      () => thread(h, id),
      (text) =>
        text.includes('After resolution: *Scale down green* started') &&
        text.includes('After resolution: *Scale down green* succeeded') &&
        // Its output, with a template filled from a step's output.
        text.includes('scaled green to 0 after 0'),
    );
    await eventually(
      () => cardText(h, id),
      (blocks) => blocks.includes('After resolution* (1 succeeded)'),
    );
    expect(await metric(h, 'succeeded')).toBe(1);

    const api = await fetch(`http://127.0.0.1:${h.port}/api/rollbacks/${id}`, {
      headers: { authorization: 'Bearer e2e-api-token' },
    });
    const body = (await api.json()) as RollbackView;
    expect(body.state).toBe('resolved');
    expect(body.afterSteps[0]?.status).toBe('succeeded');
    expect(body.timeline.map((t) => t.event)).toEqual(
      expect.arrayContaining(['TIMER', 'AFTER_STEP_STARTED', 'AFTER_STEP_SUCCEEDED']),
    );
  }, 60_000);

  it('reports a failing clean-up in the thread, on the card and in the metrics, and stays resolved', async () => {
    const h = (harness = await startBotHarness({ planFile: PLANS }));
    const { id } = await resolve(h, 'payments');
    advance(h, 5_000);
    const failed = await eventually(
      () => view(h, id),
      (v) => v.afterSteps[0]?.status === 'failed',
    );
    expect(failed.state).toBe('resolved');
    expect(failed.afterSteps).toMatchObject([
      { status: 'failed', error: 'sh exited with code 3' },
      { status: 'skipped', note: 'not run: "Scale down green" failed' },
    ]);
    await eventually(
      () => thread(h, id),
      (text) =>
        text.includes('After resolution: *Scale down green* failed') &&
        text.includes('1 later step after resolution will not run') &&
        text.includes('The rollback stays resolved'),
    );
    await eventually(
      () => cardText(h, id),
      (blocks) => blocks.includes('1 failed, 1 skipped') && blocks.includes('the rollback stays resolved'),
    );
    // No button: nothing to decide on a resolved rollback.
    expect(cardText(h, id)).not.toContain('rollback:retry-step');
    expect(await metric(h, 'failed')).toBe(1);
    expect(await metric(h, 'skipped')).toBe(1);
    // Nothing runs later either.
    advance(h, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect((await view(h, id)).afterSteps[1]?.status).toBe('skipped');
    expect((await h.store.getRollback(id))?.state).toBe('resolved');
  }, 60_000);

  it('calls off a pending clean-up when a new rollback of the service is declared', async () => {
    const h = (harness = await startBotHarness({ planFile: PLANS }));
    const { id } = await resolve(h, 'checkout');
    const next = await declare(h, 'checkout');
    const old = await view(h, id);
    expect(old.afterSteps[0]).toMatchObject({
      status: 'skipped',
      note: `called off: rollback ${next} of checkout in production was declared`,
    });
    await eventually(
      () => thread(h, id),
      (text) => text.includes(`Steps after resolution called off: rollback \`${next}\``),
    );
    advance(h, 5_000);
    await new Promise((r) => setTimeout(r, 500));
    expect((await view(h, id)).afterSteps[0]?.status).toBe('skipped');
    expect(await metric(h, 'cancelled')).toBe(1);
    expect((await view(h, next)).state).toBe('declared');
  }, 60_000);
});
