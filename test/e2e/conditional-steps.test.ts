/**
 * Conditional steps through the whole bot: a real command prints JSON whose `applied` decides,
 * through the next step's `when`, whether the migration rollback runs. Skipped, it must never run
 * (its command would leave a marker file and print a marker line); applied, it runs as usual.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { channelTranscript } from '../../src/simulator/index.js';
import {
  API_TOKEN,
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';

const PLANS = 'test/fixtures/e2e/conditional-plans.yaml';
const APPLIED = 'steps.migrate-check.output.applied';

let harness: BotHarness | undefined;
let markerDir: string | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  if (markerDir !== undefined) rmSync(markerDir, { recursive: true, force: true });
  markerDir = undefined;
});

interface ApiStep {
  name: string;
  status: string;
  when?: string;
  skippedBy?: string;
  skipReason?: string;
}

/** Declares, approves and waits for the end; returns what the API says and where the marker would be. */
async function runStrategy(strategy: 'applied' | 'not-applied') {
  const dir = (markerDir = mkdtempSync(join(tmpdir(), 'rollback-bot-when-')));
  const h = (harness = await startBotHarness({ planFile: PLANS, env: { E2E_MARKER_DIR: dir } }));
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: `orders --env production --to v41 --strategy ${strategy} --reason "bad migration"`,
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0];
  if (!id) throw new Error(`no rollback id in ${JSON.stringify(command.responses)}`);
  const card = () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));
  // Before it is reached, the card says the step may not run.
  await eventually(
    () => JSON.stringify(card()?.blocks ?? null),
    (blocks) => blocks.includes(`only when_ \`{{ ${APPLIED} }}\``),
  );
  await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
  await eventually(
    async () => (await h.store.getRollback(id))?.state,
    (state) => state === 'resolved',
    30_000,
  );
  const api = await fetch(`http://127.0.0.1:${h.port}/api/rollbacks/${id}`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  const view = (await api.json()) as { state: string; steps: ApiStep[] };
  // The thread's last notices and the final card are written by the outbox after the commit.
  await eventually(
    () => JSON.stringify(card()?.blocks ?? null),
    (blocks) => blocks.includes('Outcome: resolved'),
  );
  const transcript = await eventually(
    () => channelTranscript(h.sim, CHANNEL),
    (text) => text.includes('ROLLBACK COMPLETE'),
  );
  return { h, view, transcript, card: JSON.stringify(card()?.blocks), marker: join(dir, 'undone') };
}

describe('conditional steps (when), through Slack and the API', () => {
  it('skips the migration rollback when the check printed applied: false, and never runs it', async () => {
    const { view, transcript, card, marker } = await runStrategy('not-applied');
    expect(view.state).toBe('resolved');
    expect(view.steps.map((s) => [s.name, s.status])).toEqual([
      ['Check the migration', 'succeeded'],
      ['Undo the migration', 'skipped'],
      ['Restart the workers', 'succeeded'],
    ]);
    expect(view.steps[1]).toMatchObject({
      when: `{{ ${APPLIED} }}`,
      skippedBy: 'condition',
      skipReason: `${APPLIED} was false`,
    });
    // Never ran: no marker file, no output line, no start notice.
    expect(existsSync(marker)).toBe(false);
    expect(transcript).not.toContain('MIGRATION-UNDONE');
    expect(transcript).not.toMatch(/step 2\/3 \*Undo the migration\* started/);
    expect(transcript).toContain('checking the schema');
    expect(transcript).toContain(`step 2/3 *Undo the migration* skipped: ${APPLIED} was false`);
    expect(transcript).toContain('workers restarted');
    expect(card).toContain(`*2. Undo the migration* · \`command\` · skipped: ${APPLIED} was false`);
  }, 60_000);

  it('runs the migration rollback when the check printed applied: true', async () => {
    const { view, transcript, marker } = await runStrategy('applied');
    expect(view.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(view.steps[1]).not.toHaveProperty('skippedBy');
    expect(existsSync(marker)).toBe(true);
    expect(transcript).toContain('MIGRATION-UNDONE');
    expect(transcript).not.toContain('skipped:');
  }, 60_000);
});
