/**
 * The status page and SNS are down for a whole rollback, and the bot restarts while their messages
 * wait. The rollback finishes in its normal time; each rollback thread hears once per target that it
 * is not answering (not once per message, not again after the restart), and once that it answers
 * again; and when they come back, every message is sent exactly once, in order, by the restarted bot
 * (they were kept in Redis, not in memory). Both targets are real local servers: the status page
 * answers 503 and then refuses connections, SNS the other way round.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/lib/logging.js';
import { createSnsPublisher } from '../../src/notifiers/targets/sns/publisher.js';
import type { SlackSimulator } from '../../src/simulator/index.js';
import { COLLECTIONS } from '../../src/store/collections.js';
import {
  declareBySlash,
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { startFakeSns, snsAttribute, type FakeSns } from '../support/fake-sns.js';
import { startFakeStatuspage, type FakeStatuspage } from '../support/fake-statuspage.js';

const PLANS = 'test/fixtures/e2e/stakeholder-plans.yaml';
const KEY = 'sp-reliability-key';
/** Quick retries so the test does not wait out a 30 s backoff once the targets are back. */
const OUTBOX = { baseDelayMs: 200, maxDelayMs: 1_000 };
/** The plan's run (one step, one check, no stabilisation) takes about a second; generous for load. */
const NORMAL_RUN_MS = 15_000;

const NOT_ANSWERING = {
  statuspage: /^The status page is not answering/,
  sns: /^SNS \(topic rollback-stakeholders\) is not answering/,
};
const BACK = {
  statuspage: /^The status page answers again/,
  sns: /^SNS \(topic rollback-stakeholders\) answers again/,
};

let statuspage: FakeStatuspage;
let sns: FakeSns;
let first: BotHarness | undefined;
let second: BotHarness | undefined;
let sim: SlackSimulator | undefined;

beforeAll(async () => {
  statuspage = await startFakeStatuspage({ keys: [KEY], now: Date.now });
  sns = await startFakeSns();
  vi.stubEnv('AWS_ENDPOINT_URL_SNS', sns.url);
  vi.stubEnv('AWS_REGION', 'eu-west-3');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-example');
  vi.stubEnv('AWS_PROFILE', '');
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
});

afterAll(async () => {
  await first?.stop({ keepData: true }).catch(() => undefined);
  await second?.stop().catch(() => undefined);
  await sim?.stop();
  await statuspage.close();
  await sns.close();
  vi.unstubAllEnvs();
}, 30_000);

function bot(options: { prefix?: string; sim?: SlackSimulator } = {}): Promise<BotHarness> {
  return startBotHarness({
    planFile: PLANS,
    ...options,
    bot: {
      sns: createSnsPublisher({ log: silentLogger }),
      statuspage: { apiUrl: statuspage.apiUrl, apiKey: KEY },
      stakeholderOutbox: OUTBOX,
    },
  });
}

/** The texts of the rollback thread's replies. */
function thread(h: BotHarness, id: string): string[] {
  const card = h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));
  return card ? h.sim.replies(CHANNEL, card.ts).map((r) => r.text) : [];
}

const count = (h: BotHarness, id: string, pattern: RegExp): number =>
  thread(h, id).filter((text) => pattern.test(text)).length;

it('status page and SNS down for the whole rollback, bot restarted meanwhile: sent once each, in order', async () => {
  await statuspage.down({ status: 503 });
  await sns.down('refuse');
  const h = (first = await bot());
  sim = h.sim;
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.4.1',
    at: h.clock.now - 86_400_000,
  });
  await h.store.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.5.0',
    at: h.clock.now - 60_000,
  });
  const id = await declareBySlash(h, 'checkout --reason "stakeholders down"');
  await eventually(
    () => thread(h, id).length,
    (n) => n > 0,
  );
  const approvedAt = Date.now();
  const click = await h.driver.click({
    user: PEOPLE.oncall,
    actionId: 'rollback:approve',
    value: forRollback(id),
  });
  expect(click.status).toBe(200);

  // The rollback does not wait for its stakeholders.
  await eventually(
    () => h.bot.reads.view(id),
    (view) => view?.state === 'resolved',
    NORMAL_RUN_MS,
  );
  const runMs = Date.now() - approvedAt;
  expect(runMs).toBeLessThan(NORMAL_RUN_MS);

  // Each target's outage is said once in the thread, however many messages wait behind it.
  await eventually(
    () => [count(h, id, NOT_ANSWERING.statuspage), count(h, id, NOT_ANSWERING.sns)],
    ([page, topic]) => page === 1 && topic === 1,
    30_000,
  );
  expect(statuspage.requests.every((r) => r.status === 503)).toBe(true);
  expect(sns.published).toHaveLength(0);
  // The stakeholder channel (Slack is up) heard its four moments meanwhile.
  await eventually(
    () => h.sim.messages('C0ELSEWHERE').length,
    (n) => n === 4,
  );

  // Restart while the messages wait: they are in Redis.
  const { prefix } = h;
  await h.stop({ keepData: true });
  first = undefined;
  const lanes = async (b: BotHarness) =>
    Object.fromEntries(
      (await b.store.listDocs<{ messages: unknown[] }>(COLLECTIONS.stakeholderOutbox)).map((doc) => [
        doc.key.slice(0, doc.key.indexOf(':')),
        doc.value.messages.length,
      ]),
    );
  // Down the other way round: the status page refuses connections, SNS answers 503.
  await statuspage.down('refuse');
  await sns.down({ status: 503 });
  const again = (second = await bot({ prefix, sim }));
  expect(await lanes(again)).toEqual({ statuspage: 5, sns: 4, slack: 0 });
  // The restarted bot tries (SNS answers 503 to it) and says nothing new: the outage was told.
  await eventually(
    () => sns.answered.filter((status) => status === 503).length,
    (n) => n >= 8,
    30_000,
  );
  expect(count(again, id, NOT_ANSWERING.statuspage)).toBe(1);
  expect(count(again, id, NOT_ANSWERING.sns)).toBe(1);

  await statuspage.down(null);
  await sns.down(null);
  await eventually(
    () => [statuspage.incidents.get('inc-1')?.status, sns.published.length],
    ([status, published]) => status === 'resolved' && published === 4,
    60_000,
  );
  await eventually(
    () => [count(again, id, BACK.statuspage), count(again, id, BACK.sns)],
    ([page, topic]) => page === 1 && topic === 1,
  );
  // Anything sent twice would show now.
  await new Promise((resolve) => setTimeout(resolve, 2_000));

  // Status page: one incident, opened once, its five updates in the rollback's order.
  expect(statuspage.incidents.size).toBe(1);
  expect(statuspage.requests.filter((r) => r.status === 201)).toHaveLength(1);
  expect(statuspage.requests.filter((r) => r.status === 200)).toHaveLength(4);
  expect(statuspage.incidents.get('inc-1')!.updates.map((u) => u.status)).toEqual([
    'investigating',
    'investigating',
    'identified',
    'monitoring',
    'resolved',
  ]);
  expect(statuspage.violations).toEqual([]);
  // SNS: each of the four messages published once, in order.
  expect(sns.published.map((p) => snsAttribute(p, 'event'))).toEqual([
    'incident-opened',
    'rollback-declared',
    'authorized',
    'resolved',
  ]);
  expect(await lanes(again)).toEqual({ statuspage: 0, sns: 0, slack: 0 });
  // The thread: one "not answering" and one "answers again" per target, nothing else of them.
  expect(count(again, id, NOT_ANSWERING.statuspage)).toBe(1);
  expect(count(again, id, NOT_ANSWERING.sns)).toBe(1);
  expect(count(again, id, BACK.statuspage)).toBe(1);
  expect(count(again, id, BACK.sns)).toBe(1);
  // No message was given up.
  expect(thread(again, id).filter((t) => /^The status page could not|were not told/.test(t))).toEqual([]);
  expect(again.sim.messages('C0ELSEWHERE')).toHaveLength(4);
  console.info(
    `stakeholders-down: rollback resolved ${runMs} ms after approval; status page requests ` +
      `${statuspage.requests.length} (${statuspage.requests.filter((r) => r.status < 300).length} accepted), ` +
      `SNS answers ${sns.answered.length} (${sns.published.length} published)`,
  );
}, 180_000);
