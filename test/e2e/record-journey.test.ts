/**
 * The record through the whole bot: a journey to `resolved` (and one to `aborted`) ends with a
 * post-mortem draft in the rollback's thread whose timeline has every event with its time to the
 * second and its actor; `/rollback history` and `/rollback stats` answer; `/metrics` counts it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeButtonValue } from '../../src/slack/blocks/kit.js';
import { utcText } from '../../src/slack/blocks/text.js';
import {
  CHANNEL,
  PEOPLE,
  eventually,
  forRollback,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const cardOf = (h: BotHarness, id: string) =>
  h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));

const stateOf = async (h: BotHarness, id: string): Promise<string | undefined> =>
  (await h.store.getRollback(id))?.state;

/** The post-mortem drafts in the rollback's thread, as their lines of mrkdwn. */
function postMortems(h: BotHarness, id: string): string[][] {
  const card = cardOf(h, id);
  if (!card) return [];
  return h.sim
    .replies(CHANNEL, card.ts)
    .filter((r) => JSON.stringify(r.blocks).includes('Post-Mortem:'))
    .map((r) =>
      (r.blocks as Array<{ text?: { text?: string }; elements?: Array<{ text?: string }> }>).flatMap(
        (b) => (b.text?.text ?? b.elements?.map((e) => e.text ?? '').join(' '))?.split('\n') ?? [],
      ),
    );
}

async function declare(h: BotHarness): Promise<string> {
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.5.0',
    at: h.clock.now - 60_000,
  });
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: 'checkout --env production --to v1.4.1 --reason "5xx spike"',
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0];
  if (!id) throw new Error(`no rollback id in ${JSON.stringify(command.responses)}`);
  await eventually(() => cardOf(h, id), Boolean);
  return id;
}

async function command(h: BotHarness, text: string): Promise<string> {
  const answer = await h.driver.slashCommand({
    user: PEOPLE.oncall,
    channel: CHANNEL,
    text,
    expectResponses: 1,
  });
  expect(answer.status).toBe(200);
  return JSON.stringify(answer.responses);
}

interface ApiTimeline {
  timeline: Array<{ at: string; event: string; by: string }>;
  outcome: { by: string };
}

const actorToken = (by: string): string => (/^[UW][A-Z0-9]+$/.test(by) ? `<@${by}>` : `\`${by}\``);

describe('the record of a rollback (simulator, real Bolt, real Redis)', () => {
  it('posts a post-mortem with every event, answers history and stats, and counts it in /metrics', async () => {
    const h = (harness = await startBotHarness());
    const id = await declare(h);
    h.clock.now += 7_000;
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () => JSON.stringify(cardOf(h, id)?.blocks),
      (blocks) => blocks.includes('rollback:check-done'),
    );
    h.clock.now += 11_000;
    await h.driver.click({
      user: PEOPLE.oncall,
      actionId: 'rollback:check-done',
      value: (v) => decodeButtonValue(v)?.rollbackId === id,
    });
    await eventually(
      () => stateOf(h, id),
      (s) => s === 'resolved',
    );
    const [draft] = await eventually(
      () => postMortems(h, id),
      (drafts) => drafts.length > 0,
    );
    const lines = draft!;

    const api = await fetch(`http://127.0.0.1:${h.port}/api/rollbacks/${id}`, {
      headers: { authorization: 'Bearer e2e-api-token' },
    });
    const { timeline, outcome } = (await api.json()) as ApiTimeline;
    const events = timeline.filter((e) => e.event !== 'TIMER');
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining([
        'DECLARE',
        'APPROVE',
        'STEP_STARTED',
        'STEP_SUCCEEDED',
        'CHECK_PASSED',
        'MANUAL_DONE',
      ]),
    );
    const timelineLines = lines.filter((l) => l.startsWith('• <!date^'));
    // Each audited event has its own line, with its time to the second and its actor.
    for (const event of events) {
      const at = Date.parse(event.at);
      const stamp = `<!date^${Math.floor(at / 1_000)}^{date_short_pretty} {time_secs}|${utcText(at)}>`;
      const matching = timelineLines.filter(
        (l) => l.includes(stamp) && l.includes(`by ${actorToken(event.by)}`),
      );
      expect(matching.length, `${event.event} at ${event.at} by ${event.by}`).toBeGreaterThan(0);
    }
    const said = (pattern: RegExp, by: string): void => {
      expect(
        timelineLines.some((l) => pattern.test(l) && l.endsWith(`by ${actorToken(by)}`)),
        `${pattern.source} by ${by} in\n${timelineLines.join('\n')}`,
      ).toBe(true);
    };
    said(/Issue detected/, PEOPLE.declarer);
    said(/Rollback initiated/, PEOPLE.declarer);
    said(/Approved as \*on-call-engineer\*/, PEOPLE.oncall);
    said(/Authorised/, PEOPLE.oncall);
    said(/step 1\/2 \*Drain blue\* started/, 'system');
    said(/step 2\/2 \*Switch traffic\* succeeded/, 'system');
    said(/check \*Probe\* passed/, 'system');
    said(/check \*Smoke-test checkout\* marked done/, PEOPLE.oncall);
    // The automatic check and the manual one race: whichever came last validated and resolved it.
    said(/Validated/, outcome.by);
    said(/Rollback completed: \*resolved\*/, outcome.by);
    expect(lines.join('\n')).toContain('*Root Cause*');
    // The timeline is vouched for by the audit chain as stored in Redis, with the head verify prints.
    const verified = lines.find((l) => l.startsWith('🔒 Timeline verified')) ?? lines.join('\n');
    const [, entries] = /the audit chain of its (\d+) entries holds/.exec(verified) ?? [];
    const audit = await h.store.readAudit(id);
    expect(verified).toBe(
      `🔒 Timeline verified: the audit chain of its ${entries} entries holds. Head \`${audit[Number(entries) - 1]?.hash?.slice(0, 16)}\` (check again with \`npx rollback-bot audit verify ${id}\`).`,
    );
    // Posted once, however often the final notice is delivered.
    h.bot.runtime.outbox.nudge();
    expect(postMortems(h, id)).toHaveLength(1);

    const history = await command(h, 'history checkout');
    expect(history).toContain(id);
    expect(history).toContain(`resolved by <@${PEOPLE.oncall}>`);
    expect(await command(h, 'history nosuchservice')).toContain('No finished rollbacks of nosuchservice');
    const stats = await command(h, 'stats');
    expect(stats).toContain('Success rate');
    expect(stats).toContain('100% (1 of 1)');
    expect(stats).toContain('Time to roll back');

    h.bot.metrics.alertsReceived.inc({ source: 'alertmanager', outcome: 'opened' });
    const metrics = await fetch(`http://127.0.0.1:${h.port}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const body = await metrics.text();
    for (const line of [
      'rollback_bot_rollbacks_declared_total{service="checkout",environment="production",drill="false"} 1',
      'rollback_bot_rollbacks_ended_total{service="checkout",environment="production",drill="false",outcome="resolved"} 1',
      'rollback_bot_step_outcomes_total{executor="command",outcome="succeeded",drill="false"} 2',
      'rollback_bot_approval_wait_seconds_count{environment="production",via="approval",drill="false"} 1',
      'rollback_bot_rollback_duration_seconds_count{service="checkout",environment="production",drill="false",outcome="resolved"} 1',
      'rollback_bot_alerts_received_total{source="alertmanager",outcome="opened"} 1',
      '# TYPE rollback_bot_incidents_opened_total counter',
      '# TYPE rollback_bot_effect_handler_failures_total counter',
      '# TYPE rollback_bot_process_cpu_user_seconds_total counter',
    ]) {
      expect(body).toContain(line);
    }
  }, 60_000);

  it('drafts a post-mortem for an aborted rollback too', async () => {
    const h = (harness = await startBotHarness({ env: { E2E_FAIL_SWITCH: '/nonexistent/dir/marker' } }));
    const id = await declare(h);
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      async () => (await h.bot.reads.view(id))?.steps[1]?.status,
      (status) => status === 'failed',
    );
    h.clock.now += 5_000;
    await h.driver.click({
      user: PEOPLE.lead,
      actionId: 'rollback:abort',
      value: forRollback(id),
      messageTs: cardOf(h, id)!.ts,
    });
    const [lines] = await eventually(
      () => postMortems(h, id),
      (drafts) => drafts.length > 0,
    );
    const text = lines!.join('\n');
    expect(text).toContain('Rollback Ended (aborted)');
    expect(text).toMatch(/step 2\/2 \*Switch traffic\* failed.* — by `system`/);
    expect(text).toMatch(/Rollback ended: \*aborted\*.* — by <@U0LEAD1>/);
  }, 60_000);
});
