/**
 * Two replicas of the bot as shipped (`src/main.ts` in child processes) behind one round-robin load
 * balancer, over one Redis this test owns, with Slack simulated. Slash commands, clicks and an alert
 * storm spread over both; the replica running a step is SIGKILLed in the middle of the step and of
 * the storm. Everything ends with the right history, one thread per incident and one post per notice.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { SlackSimulator } from '../../src/simulator/index.js';
import { alertmanagerPayload, stormPlans, stormService } from '../support/alert-payloads.js';
import {
  declareBySlash,
  ALERT_TOKEN,
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
} from '../support/bot-harness.js';
import { startReplicaPair, type ReplicaPair } from '../support/replica-pair.js';

const SERVICES = 10;
const WEBHOOKS = 200;

let pair: ReplicaPair | undefined;
afterAll(async () => {
  await pair?.stop();
}, 30_000);

/** Sends one webhook as Alertmanager would: again after a 5xx or a broken connection. */
async function deliverAlert(url: string, body: unknown): Promise<{ status: number; tries: number }> {
  for (let tries = 1; ; tries += 1) {
    const status = await fetch(`${url}/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
      body: JSON.stringify(body),
    }).then(
      (response) => response.status,
      () => 0,
    );
    if ((status > 0 && status < 500) || tries >= 10) return { status, tries };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const threadTexts = (s: SlackSimulator, parentTs: string): string[] =>
  s.replies(CHANNEL, parentTs).map((m) => m.text);

it('spreads work over two replicas and loses nothing when one is SIGKILLed mid-step and mid-storm', async () => {
  pair = await startReplicaPair({
    plans: async (dir) => {
      const planFile = path.join(dir, 'plans.yaml');
      const outagePlans = await readFile('test/fixtures/e2e/outage-plans.yaml', 'utf8');
      await writeFile(planFile, [outagePlans, ...stormPlans(SERVICES, CHANNEL)].join('\n---\n'));
      return planFile;
    },
    env: (dir) => ({ OUTAGE_RUNS: path.join(dir, 'runs') }),
  });
  const { replicas, proxy, sim, store, driver } = pair;
  const runs = path.join(pair.dir, 'runs');

  const id = await declareBySlash(pair, 'checkout --env production --to v1 --reason "replica test"');
  await driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
  await eventually(
    () => readFile(runs, 'utf8').catch(() => ''),
    (text) => text.includes('long'),
  );
  const holder = (await store.leaseHolder(`step:${id}`)) ?? '';
  const victim = replicas.find((replica) => holder.includes(`-${replica.pid}-`));
  if (!victim) throw new Error(`no replica holds the step lease (${holder})`);

  // The storm: WEBHOOKS alerts over SERVICES services, ten at a time; the victim dies a quarter in.
  const started = Date.now();
  const answers: Array<{ status: number; tries: number }> = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (sent < WEBHOOKS) {
        const n = sent++;
        if (n === WEBHOOKS / 4) await victim.kill('SIGKILL');
        const service = stormService(n % SERVICES);
        const body = alertmanagerPayload(
          [{ name: 'StormAlert', service, fingerprint: `${service}-${n}`, startsAt: started }],
          `storm-${service}`,
        );
        answers.push(await deliverAlert(proxy.url, body));
      }
    }),
  );
  expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
  // The figures docs/reliability.md quotes: how many deliveries the crash cost a retry.
  console.info(
    `two replicas: ${answers.length} webhooks answered 200, ${answers.filter((a) => a.tries > 1).length} after a retry; served ${JSON.stringify(proxy.served)}`,
  );
  expect(proxy.served.filter((count) => count > 0)).toHaveLength(2);

  // The step the victim ran is reported interrupted by the survivor (after the lease), NOT re-run.
  await eventually(
    () => store.getRollback(id),
    (rollback) => JSON.stringify(rollback?.snapshot).includes('"status":"interrupted"'),
    30_000,
  );
  expect((await readFile(runs, 'utf8')).trim().split('\n')).toEqual(['long']);
  // A person decides: Retry, through the balancer, lands on the survivor (once the card offers it).
  await eventually(
    () =>
      driver.click({ user: PEOPLE.oncall, actionId: 'rollback:retry-step', value: forRollback(id) }).then(
        (click) => click.status,
        () => 0,
      ),
    (status) => status === 200,
    20_000,
  );
  await eventually(
    () => store.getRollback(id),
    (rollback) => rollback?.state === 'resolved',
    30_000,
  );
  expect((await readFile(runs, 'utf8')).trim().split('\n')).toEqual(['long', 'long', 'short']);
  const history = (await store.readAudit(id)).map((entry) => entry.event);
  expect(history).toEqual(
    expect.arrayContaining(['STEP_STARTED', 'STEP_INTERRUPTED', 'RETRY_STEP', 'STEP_SUCCEEDED']),
  );

  // One incident, so one top-level message, per service, whatever replica took each webhook.
  await eventually(
    () =>
      Array.from({ length: SERVICES }, (_, i) => stormService(i)).map(
        (service) => sim.messages(CHANNEL).filter((m) => m.text.startsWith(`Incident: ${service} `)).length,
      ),
    (counts) => counts.every((count) => count === 1),
    30_000,
  );
  // Each notice of the rollback was posted once in its thread.
  const card = sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))!;
  const thread = await eventually(
    () => threadTexts(sim, card.ts),
    (texts) => texts.some((text) => text.includes('ROLLBACK COMPLETE')),
  );
  for (const phrase of ['Authorized', 'was interrupted', 'ROLLBACK COMPLETE']) {
    expect(
      thread.filter((text) => text.includes(phrase)),
      phrase,
    ).toHaveLength(1);
  }
}, 300_000);
