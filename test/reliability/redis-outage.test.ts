/**
 * Redis goes away for 30 s in the middle of a rollback (a Redis this test starts and owns; the
 * machine's shared one is never touched). People who act meanwhile are told the state store is
 * unavailable and that nothing was changed; /readyz goes red, then green; the rollback carries on by
 * itself once Redis is back; no step runs twice, no notice is lost or doubled, and a reminder that
 * fell due during the outage is posted once.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  CHANNEL,
  declareBySlash,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { alertmanagerPayload, postAlerts } from '../support/alert-payloads.js';
import { startStandaloneRedis, type StandaloneRedis } from '../support/redis-servers.js';

const OUTAGE_MS = 30_000;
const MINUTE = 60_000;

let redis: StandaloneRedis | undefined;
let harness: BotHarness | undefined;
let dir: string | undefined;
afterAll(async () => {
  await harness?.stop().catch(() => undefined);
  await redis?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

const texts = (h: BotHarness): string[] =>
  h.sim
    .allMessages()
    .filter((m) => m.channel === CHANNEL)
    .map((m) => m.text);

const readyz = async (h: BotHarness): Promise<number> =>
  (await fetch(`http://127.0.0.1:${h.port}/readyz`)).status;

const STORE_DOWN = /state store .*unavailable/i;

const ALERT = alertmanagerPayload(
  [{ name: 'OutageTestAlert', service: 'payments', fingerprint: 'outage-1', startsAt: Date.now() }],
  'outage',
);

/** What people see while Redis is away: a clear answer, quickly, and nothing changed. */
async function actWhileDown(h: BotHarness, waiting: string, running: string): Promise<void> {
  expect(await readyz(h)).toBe(503);
  const approval = await h.driver.click({
    user: PEOPLE.oncall,
    actionId: 'rollback:approve',
    value: forRollback(waiting),
  });
  expect({ status: approval.status, body: approval.body }).toMatchObject({ status: 200 });
  expect(approval.ackMs).toBeLessThan(3_000);
  const told = await eventually(
    () => [
      ...h.sim.responsePosts(approval.responseUrl.split('/').pop()).map((r) => JSON.stringify(r)),
      ...h.sim.ephemerals({ user: PEOPLE.oncall }).map((e) => e.text),
    ],
    (lines) => lines.some((line) => STORE_DOWN.test(line)),
  );
  expect(told.join('\n')).toMatch(/nothing was changed/i);
  expect(told.join('\n')).not.toMatch(/\.ts:\d+|Error:/);

  const status = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: `status ${running}`,
    expectResponses: 1,
  });
  expect({ status: status.status, body: status.body }).toMatchObject({ status: 200 });
  expect(JSON.stringify([status.body, status.responses])).toMatch(STORE_DOWN);

  // An alert sender is answered 503 with the reason, and delivers again later (Alertmanager does).
  const alert = await postAlerts(h.port, '/alerts/alertmanager', ALERT);
  expect(alert.status).toBe(503);
  expect(alert.body).toMatchObject({ error: { code: 'unavailable' } });
  expect(JSON.stringify(alert.body)).toMatch(STORE_DOWN);
}

it('survives Redis going away for 30 s mid-rollback', async () => {
  redis = await startStandaloneRedis();
  dir = await mkdtemp(path.join(os.tmpdir(), 'rollback-bot-outage-'));
  const runs = path.join(dir, 'runs');
  const h = (harness = await startBotHarness({
    redisUrl: redis.url,
    planFile: 'test/fixtures/e2e/outage-plans.yaml',
    env: { OUTAGE_RUNS: runs },
  }));

  // One rollback waits for approval (its reminder falls due during the outage), one runs.
  const waiting = await declareBySlash(h, 'payments --env production --to v1 --reason "outage test"');
  const running = await declareBySlash(h, 'checkout --env production --to v1 --reason "outage test"');
  await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(running) });
  await eventually(
    () => readFile(runs, 'utf8').catch(() => ''),
    (text) => text.includes('long'),
  );

  await redis.stop();
  const downAt = Date.now();
  try {
    await actWhileDown(h, waiting, running);
    // The reminder of the waiting rollback falls due while Redis is away.
    h.clock.now += 6 * MINUTE;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
  } finally {
    await redis.start();
  }
  await eventually(
    () => readyz(h),
    (code) => code === 200,
    20_000,
  );

  await eventually(
    () => h.store.getRollback(running),
    (rollback) => rollback?.state === 'resolved',
    60_000,
  );
  // The alert delivered again after the outage opens its incident, once.
  const redelivered = await postAlerts(h.port, '/alerts/alertmanager', ALERT);
  expect(redelivered).toMatchObject({ status: 200, body: { accepted: 1 } });
  await eventually(
    () =>
      h.sim.messages(CHANNEL).filter((m) => JSON.stringify([m.text, m.blocks]).includes('OutageTestAlert'))
        .length,
    (count) => count === 1,
  );
  // Each step ran once: the one Redis went away under was not started again.
  expect((await readFile(runs, 'utf8')).trim().split('\n')).toEqual(['long', 'short']);
  await eventually(
    () => texts(h).filter((text) => text.includes('Reminder')).length,
    (count) => count >= 1,
    20_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const all = texts(h);
  expect(all.filter((text) => text.includes('Reminder'))).toHaveLength(1);
  // Every notice of the run reached the thread once.
  for (const phrase of ['Authorized', 'ROLLBACK COMPLETE']) {
    expect(
      all.filter((text) => text.includes(phrase)),
      phrase,
    ).toHaveLength(1);
  }
  // The click refused during the outage changed nothing.
  expect((await h.store.getRollback(waiting))?.state).toBe('declared');
}, 150_000);
