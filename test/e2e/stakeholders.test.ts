/**
 * Stakeholders through the whole bot: a rollback declared, approved and resolved in Slack tells
 * the stakeholder channel, an SNS topic (a local endpoint speaking SNS's Query protocol, reached
 * through AWS_ENDPOINT_URL_SNS) and a status page (a local Statuspage enforcing 1 request per second
 * per key), with the plan's template override. A status page that is down does not delay the
 * rollback, and the thread says so.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/lib/logging.js';
import { createSnsPublisher } from '../../src/notifiers/targets/sns/publisher.js';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { alertmanagerPayload, postAlerts } from '../support/alert-payloads.js';
import { startFakeStatuspage, type FakeStatuspage } from '../support/fake-statuspage.js';
import { startPeer, type HttpPeer } from '../support/http-peer.js';

const PLANS = 'test/fixtures/e2e/stakeholder-plans.yaml';
const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:rollback-stakeholders';
const KEY = 'sp-e2e-key';

// The stakeholder plans with one channel changed to one Slack does not know (C0GONE).
const scratch = mkdtempSync(join(tmpdir(), 'rollback-bot-stakeholders-'));
function plansWith(name: string, from: string, to: string): string {
  const file = join(scratch, name);
  writeFileSync(file, readFileSync(PLANS, 'utf8').replace(from, to));
  return file;
}
const CARDLESS_PLANS = plansWith('cardless.yaml', 'channel: C0INCIDENTS', 'channel: C0GONE');
const GONE_STAKEHOLDERS_PLANS = plansWith('gone.yaml', 'channels: [C0ELSEWHERE]', 'channels: [C0GONE]');
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

let harness: BotHarness | undefined;
let sns: HttpPeer | undefined;
let statuspage: FakeStatuspage | undefined;
afterEach(async () => {
  await harness?.stop();
  await sns?.close();
  await statuspage?.close();
  harness = undefined;
  sns = undefined;
  statuspage = undefined;
  vi.unstubAllEnvs();
});

function published(res: ServerResponse, id: number): void {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(
    `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-${id}</MessageId></PublishResult>` +
      `<ResponseMetadata><RequestId>r-${id}</RequestId></ResponseMetadata></PublishResponse>`,
  );
}

beforeEach(async () => {
  sns = await startPeer((_request, res, n) => {
    published(res, n);
  });
  vi.stubEnv('AWS_ENDPOINT_URL_SNS', sns.url);
  vi.stubEnv('AWS_REGION', 'eu-west-3');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-example');
  vi.stubEnv('AWS_PROFILE', '');
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
});

async function declare(h: BotHarness): Promise<string> {
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
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: 'checkout --reason "5xx spike"',
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0];
  if (!id) throw new Error(`no rollback id in ${JSON.stringify(command.responses)}`);
  return id;
}

async function runRollback(h: BotHarness): Promise<string> {
  const id = await declare(h);
  await eventually(() => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)), Boolean);
  await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
  return id;
}

const params = (body: string) => Object.fromEntries(new URLSearchParams(body));

describe('stakeholders', () => {
  it('tells the stakeholder channel, SNS and the status page, with the plan’s override', async () => {
    statuspage = await startFakeStatuspage({ keys: [KEY], now: Date.now });
    const h = (harness = await startBotHarness({
      planFile: PLANS,
      bot: {
        sns: createSnsPublisher({ log: silentLogger }),
        statuspage: { apiUrl: statuspage.apiUrl, apiKey: KEY },
      },
    }));
    const id = await runRollback(h);
    await eventually(
      () => h.bot.reads.view(id),
      (v) => v?.state === 'resolved',
      20_000,
    );

    // SNS: the incident (no alert opened one: the declaration did), declared, authorised, resolved,
    // each with its subject and attributes.
    const published = await eventually(
      () => sns!.requests.map((r) => params(r.body)),
      (list) => list.length >= 4,
    );
    const events = published.map(
      (p) =>
        p['MessageAttributes.entry.2.Value.StringValue'] ?? p['MessageAttributes.entry.1.Value.StringValue'],
    );
    expect(published.every((p) => p.Action === 'Publish' && p.TopicArn === TOPIC)).toBe(true);
    expect(
      published.map((p) =>
        Object.entries(p)
          .filter(([k]) => k.endsWith('.Name'))
          .map(([, v]) => v)
          .sort(),
      ),
    ).toEqual(published.map(() => ['environment', 'event', 'rollbackId', 'service']));
    const eventOf = (p: Record<string, string>) => {
      const entry = Object.entries(p).find(([k, v]) => k.endsWith('.Name') && v === 'event')?.[0];
      return entry === undefined ? undefined : p[entry.replace('.Name', '.Value.StringValue')];
    };
    expect(published.map(eventOf).sort()).toEqual(
      ['incident-opened', 'rollback-declared', 'authorized', 'resolved'].sort(),
    );
    expect(events).toHaveLength(4);
    expect(published.every((p) => (p.Subject ?? '').length > 0 && (p.Subject ?? '').length <= 100)).toBe(
      true,
    );
    expect(published.find((p) => eventOf(p) === 'resolved')!.Message).toMatch(
      /^All good: checkout is back on v1\.4\.1 after /,
    );

    // The status page followed the rollback, at most one request a second.
    const incident = await eventually(
      () => [...statuspage!.incidents.values()][0],
      (i) => i?.status === 'resolved',
      20_000,
    );
    // Opened at the declaration, told again at authorisation.
    expect(incident!.updates.map((u) => u.status)).toEqual([
      'investigating',
      'investigating',
      'identified',
      'monitoring',
      'resolved',
    ]);
    expect(incident!.components).toEqual({ cmp1: 'operational' });
    expect(statuspage.violations).toEqual([]);

    // The stakeholder channel heard the same four moments.
    const told = await eventually(
      () => h.sim.messages('C0ELSEWHERE').map((m) => m.text),
      (list) => list.length >= 4,
    );
    expect(told.some((text) => /^All good: checkout is back on v1\.4\.1/.test(text))).toBe(true);
    // The plan's text replaces the default in the rollback's own thread too.
    const card = h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))!;
    expect(h.sim.replies(CHANNEL, card.ts).map((r) => r.text)).toContainEqual(
      expect.stringMatching(/^All good: checkout is back on v1\.4\.1 after /) as string,
    );
  }, 60_000);

  it('a status page that is down delays nothing and is reported in the thread', async () => {
    const h = (harness = await startBotHarness({
      planFile: PLANS,
      bot: {
        statuspage: { apiUrl: 'http://127.0.0.1:1/v1', apiKey: KEY },
        stakeholderOutbox: { baseDelayMs: 50, maxDelayMs: 100 },
      },
    }));
    const id = await runRollback(h);
    await eventually(
      () => h.bot.reads.view(id),
      (v) => v?.state === 'resolved',
      20_000,
    );
    const card = h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))!;
    await eventually(
      () =>
        h.sim
          .replies(CHANNEL, card.ts)
          .map((r) => r.text)
          .join('\n'),
      (text) => /The status page is not answering/.test(text) && /The rollback is not affected/.test(text),
      20_000,
    );
  }, 60_000);

  it('tells stakeholders even when the rollback’s thread cannot be written', async () => {
    const h = (harness = await startBotHarness({
      planFile: CARDLESS_PLANS,
      bot: { sns: createSnsPublisher({ log: silentLogger }) },
    }));
    const id = await declare(h);
    const told = await eventually(
      () => sns!.requests.map((r) => params(r.body)),
      (list) => list.length >= 1,
    );
    expect(told[0]).toMatchObject({ Action: 'Publish', TopicArn: TOPIC });
    expect(Object.values(told[0]!)).toContain(id);
    await eventually(
      () => h.sim.messages('C0ELSEWHERE').length,
      (n) => n >= 1,
    );
    expect(h.sim.messages(CHANNEL).some((m) => JSON.stringify(m).includes(id))).toBe(false);
  }, 60_000);

  it('says in the thread which stakeholder channel was not told, as a channel mention', async () => {
    const h = (harness = await startBotHarness({ planFile: GONE_STAKEHOLDERS_PLANS }));
    const id = await declare(h);
    const card = await eventually(
      () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)),
      Boolean,
    );
    const report = await eventually(
      () => h.sim.replies(CHANNEL, card!.ts).find((r) => r.text.includes('could not be told')),
      Boolean,
    );
    expect(JSON.stringify(report!.blocks)).toContain('The stakeholder channel <#C0GONE> could not be told');
  }, 60_000);
});

/** The value of the message attribute `name` of a decoded SNS Publish. */
function attribute(p: Record<string, string>, name: string): string | undefined {
  const entry = Object.entries(p).find(([k, v]) => k.endsWith('.Name') && v === name)?.[0];
  return entry === undefined ? undefined : p[entry.replace('.Name', '.Value.StringValue')];
}

describe('what stakeholders see first (issue 15)', () => {
  it('SNS and the stakeholder channel get incident-opened at the alert, once, with severity and ETA', async () => {
    const h = (harness = await startBotHarness({
      planFile: PLANS,
      bot: { sns: createSnsPublisher({ log: silentLogger }) },
    }));
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
    const alert = alertmanagerPayload(
      [
        {
          name: 'CheckoutErrors',
          service: 'checkout',
          fingerprint: 'f1',
          startsAt: h.clock.now - 60_000,
          labels: { severity: 'critical' },
          summary: '5xx above 5% for 2m',
        },
      ],
      'g1',
    );
    expect((await postAlerts(h.port, '/alerts/alertmanager', alert)).status).toBe(200);
    const opened = await eventually(
      () => sns!.requests.map((r) => params(r.body)),
      (list) => list.length >= 1,
    );
    const message = opened[0]!;
    expect(attribute(message, 'event')).toBe('incident-opened');
    expect(attribute(message, 'incidentId')).toMatch(/^inc-/);
    expect(message.Subject).toBe('[INCIDENT] [CRITICAL] [checkout] Incident in production');
    expect(message.Message).toContain('Severity: CRITICAL');
    expect(message.Message).toContain('Issue: CheckoutErrors: 5xx above 5% for 2m');
    expect(message.Message).toContain('Impact: partial outage (high criticality service)');
    expect(message.Message).toContain('Action: Rollback to the previous stable version (v1.4.1) proposed');
    const eta = new Date(h.clock.now + 15 * 60_000).toISOString().slice(0, 16).replace('T', ' ');
    expect(message.Message).toMatch(new RegExp(`^ETA: ${eta}:\\d\\d UTC \\(RTO 15m\\)$`, 'm'));
    expect(message.Message).toMatch(/^Updates: every 5m, next by /m);
    const channel = await eventually(
      () => h.sim.messages('C0ELSEWHERE'),
      (list) => list.length >= 1,
    );
    expect(channel[0]!.text).toMatch(/^🚨 \*INCIDENT ALERT\* 🚨\n\*Severity:\* CRITICAL/);

    // Redelivered, and delivered again with another alert: the incident was opened once.
    await postAlerts(h.port, '/alerts/alertmanager', alert);
    await postAlerts(
      h.port,
      '/alerts/alertmanager',
      alertmanagerPayload(
        [{ name: 'CheckoutLatency', service: 'checkout', fingerprint: 'f2', startsAt: h.clock.now }],
        'g2',
      ),
    );
    // A rollback declared in the incident is not another opening.
    const id = await declare(h);
    await eventually(
      () => sns!.requests.map((r) => attribute(params(r.body), 'event')),
      (list) => list.includes('rollback-declared'),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = sns!.requests.map((r) => params(r.body));
    expect(events.map((p) => attribute(p, 'event'))).toEqual(['incident-opened', 'rollback-declared']);
    expect(attribute(events[1]!, 'rollbackId')).toBe(id);
    expect(h.sim.messages('C0ELSEWHERE').filter((m) => m.text.includes('INCIDENT ALERT'))).toHaveLength(1);
  }, 60_000);

  it('the status page opens between the declaration and the approval, at the criticality’s status', async () => {
    statuspage = await startFakeStatuspage({ keys: [KEY], now: Date.now });
    const h = (harness = await startBotHarness({
      planFile: PLANS,
      bot: { statuspage: { apiUrl: statuspage.apiUrl, apiKey: KEY } },
    }));
    const id = await declare(h);
    const opened = await eventually(
      () => [...statuspage!.incidents.values()][0],
      (incident) => incident !== undefined,
      20_000,
    );
    // Nobody approved yet: the customers' incident is open, as the human declaring it confirmed.
    expect((await h.bot.reads.view(id))?.state).toBe('declared');
    // checkout is `high`: a partial outage, which Statuspage calls a major impact.
    expect(opened).toMatchObject({
      status: 'investigating',
      components: { cmp1: 'partial_outage' },
      impact: 'major',
    });
    expect(opened!.updates[0]!.body).toMatch(
      /^We are investigating an issue affecting checkout \(partial outage\)\. .* We expect to restore normal service by /,
    );
    expect(opened!.updates[0]!.body).not.toMatch(/U0DECL|5xx spike/);

    const card = h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))!;
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
    const resolved = await eventually(
      () => [...statuspage!.incidents.values()][0],
      (incident) => incident?.status === 'resolved',
      20_000,
    );
    expect(resolved!.updates.map((u) => u.status)).toEqual([
      'investigating',
      'investigating',
      'identified',
      'monitoring',
      'resolved',
    ]);
    expect(statuspage.violations).toEqual([]);
    // The card shows the owner, the ETA and the plan's contacts and links.
    const blocks = JSON.stringify(h.sim.messages(CHANNEL).find((m) => m.ts === card.ts)!.blocks);
    expect(blocks).toContain('*Owner*\\nteam-checkout');
    expect(blocks).toContain('*ETA*');
    expect(blocks).toContain('(RTO 15m)');
    expect(blocks).toContain('*Incident commander: Ana* <@U0LEAD1> ☎️ +33 6 12 34 56 78');
    expect(blocks).toContain('<https://wiki.example.com/runbooks/checkout|Runbook>');
  }, 60_000);

  it('a plan without an RTO shows no ETA: not to stakeholders, not on the card', async () => {
    const h = (harness = await startBotHarness({
      planFile: PLANS,
      bot: { sns: createSnsPublisher({ log: silentLogger }) },
    }));
    const command = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'search --to v2.0.0 --reason "empty results"',
      expectResponses: 1,
    });
    const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))![0];
    const published = await eventually(
      () => sns!.requests.map((r) => params(r.body)),
      (list) => list.length >= 2,
    );
    const opened = published.find((p) => attribute(p, 'event') === 'incident-opened')!;
    expect(opened.Message).toContain('Severity: CRITICAL');
    expect(opened.Message).toContain('Impact: major outage (critical criticality service)');
    for (const p of published) expect(p.Message).not.toMatch(/ETA/);
    const card = await eventually(
      () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)),
      Boolean,
    );
    expect(JSON.stringify(card!.blocks)).not.toMatch(/\*ETA\*|\*Owner\*|Contacts/);
    expect((await h.bot.reads.view(id))?.eta).toBeUndefined();
  }, 60_000);

  it('when the ETA passes, the thread says so and the next tier is paged', async () => {
    const h = (harness = await startBotHarness({ planFile: PLANS }));
    const id = await declare(h);
    const card = await eventually(
      () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)),
      Boolean,
    );
    const thread = () =>
      h.sim
        .replies(CHANNEL, card!.ts)
        .map((r) => r.text)
        .join('\n');
    await eventually(thread, (text) => text.includes('Approval needed'));
    expect(thread()).not.toContain('ETA has passed');
    // 15 minutes later (checkout's RTO), still not approved: minute 15 is the team lead's tier,
    // so the engineering manager (tier 3) is paged, the VP told.
    h.clock.now += 15 * 60_000;
    h.bot.runtime.timers.nudge();
    const text = await eventually(thread, (t) => t.includes('ETA has passed'), 20_000);
    expect(text).toMatch(
      /⏰ The ETA has passed: the rollback of \*checkout\* \(production\) should have been over by /,
    );
    // Paged from the rollback's own policy, as every paging notice is: the approver, then the FYI line.
    expect(text).toMatch(/📣 Paging tier 3: .*engineering-manager/);
    expect(text).toMatch(/FYI .*vp-engineering/);
    const view = await h.bot.reads.view(id);
    expect(view?.state).toBe('declared');
    expect(view?.timeline.some((entry) => entry.event === 'TIMER')).toBe(true);
    // The card says the ETA passed.
    const redrawn = await eventually(
      () => JSON.stringify(h.sim.messages(CHANNEL).find((m) => m.ts === card!.ts)?.blocks),
      (blocks) => blocks.includes('passed'),
    );
    expect(redrawn).toContain('⏰ *passed*');
  }, 60_000);
});
