/**
 * Alerts to incident threads through the bot's HTTP receivers: real Bolt, real Redis, the Slack
 * simulator. One thread per service and environment, updated in place; the plan's triggers offer
 * or start the rollback; hostile deliveries are refused with the reason.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimMessage } from '../../src/simulator/index.js';
import {
  alertmanagerPayload,
  genericSignedHeaders,
  grafanaSignedHeaders,
  postAlerts,
} from '../support/alert-payloads.js';
import {
  ALERT_TOKEN,
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

const PLANS = 'test/fixtures/e2e/alert-plans.yaml';
const start = () => startBotHarness({ planFile: PLANS });
const parents = (h: BotHarness, service: string): SimMessage[] =>
  h.sim
    .messages(CHANNEL)
    .filter((m) => m.text.includes(`: ${service} (`) && /Incident|Resolved/.test(m.text));
const repliesText = (h: BotHarness, parent: SimMessage): string =>
  h.sim
    .replies(CHANNEL, parent.ts)
    .map((r) => `${r.text}\n${JSON.stringify(r.blocks)}`)
    .join('\n---\n');
const blocksOf = (message: SimMessage | undefined): string => JSON.stringify(message?.blocks ?? []);

describe('alert receivers and incident threads', () => {
  it('opens one thread, updates it in place, ignores redeliveries and closes when all resolve', async () => {
    const h = (harness = await start());
    const t0 = h.clock.now - 5 * 60_000;
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.4.1',
      at: t0 - 86_400_000,
    });
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.5.0',
      commit: 'abc1234def',
      by: 'ci',
      at: t0 - 10 * 60_000,
    });
    const first = alertmanagerPayload(
      [{ name: 'HighLatency', service: 'checkout', fingerprint: 'f1', startsAt: t0 }],
      'g1',
    );
    const answer = await postAlerts(h.port, '/alerts/alertmanager', first);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 1, duplicate: false });

    const parent = await eventually(
      () => parents(h, 'checkout'),
      (list) => list.length === 1,
    );
    expect(parent[0]!.text).toMatch(/Incident: checkout \(production\), 1 alert/);
    expect(blocksOf(parent[0])).toContain('v1.5.0');
    expect(blocksOf(parent[0])).toContain('abc1234def');
    expect(blocksOf(parent[0])).not.toContain('v1.4.1');
    // No trigger matches: the default offer is made once.
    await eventually(
      () => repliesText(h, parent[0]!),
      (text) => text.includes('incident:propose-rollback'),
    );

    // Alertmanager delivers at least once: the same notification again changes nothing.
    const again = await postAlerts(h.port, '/alerts/alertmanager', first);
    expect(again.body).toMatchObject({ accepted: 1, duplicate: true });
    await h.bot.threads.settled();
    const repliesBefore = h.sim.replies(CHANNEL, parent[0]!.ts).length;

    const second = alertmanagerPayload(
      [
        { name: 'HighLatency', service: 'checkout', fingerprint: 'f1', startsAt: t0 },
        { name: 'ErrorRate', service: 'checkout', fingerprint: 'f2', startsAt: t0 - 60_000 },
      ],
      'g1',
    );
    expect((await postAlerts(h.port, '/alerts/alertmanager', second)).status).toBe(200);
    await eventually(
      () => blocksOf(parents(h, 'checkout')[0]),
      (b) => b.includes('2 firing'),
    );
    await h.bot.threads.settled();
    expect(h.sim.replies(CHANNEL, parent[0]!.ts).length).toBe(repliesBefore + 1);
    expect(repliesText(h, parent[0]!)).toMatch(/1 more firing/);
    // The incident start moved to the earlier alert's start.
    const incident = await h.bot.incidents.current('checkout', 'production');
    expect(incident?.startedAt).toBe(t0 - 60_000);

    const resolved = alertmanagerPayload(
      [
        {
          name: 'HighLatency',
          service: 'checkout',
          fingerprint: 'f1',
          startsAt: t0,
          status: 'resolved',
          endsAt: h.clock.now,
        },
        {
          name: 'ErrorRate',
          service: 'checkout',
          fingerprint: 'f2',
          startsAt: t0 - 60_000,
          status: 'resolved',
          endsAt: h.clock.now,
        },
      ],
      'g1',
    );
    expect((await postAlerts(h.port, '/alerts/alertmanager', resolved)).status).toBe(200);
    await eventually(
      () => parents(h, 'checkout')[0]?.text ?? '',
      (text) => text.startsWith('Resolved: checkout'),
    );
    await eventually(
      () => repliesText(h, parent[0]!),
      (text) => /closed after/.test(text),
    );
    expect(parents(h, 'checkout')).toHaveLength(1);
    expect(await h.bot.incidents.current('checkout', 'production')).toBeNull();

    // A late copy of the first firing delivery does not reopen anything.
    await postAlerts(h.port, '/alerts/alertmanager', first);
    await h.bot.threads.settled();
    expect(await h.bot.incidents.current('checkout', 'production')).toBeNull();
  }, 60_000);

  it('offers the trigger’s rollback; a click declares it, joining the incident and inheriting its start', async () => {
    const h = (harness = await start());
    const t0 = h.clock.now - 7 * 60_000;
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.4.1',
      at: t0 - 86_400_000,
    });
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.5.0',
      at: t0 - 600_000,
    });
    await postAlerts(
      h.port,
      '/alerts/alertmanager',
      alertmanagerPayload([
        {
          name: 'CheckoutErrors',
          service: 'checkout',
          startsAt: t0,
          labels: { rollback_trigger: 'error-rate' },
        },
      ]),
    );
    const parent = (
      await eventually(
        () => parents(h, 'checkout'),
        (l) => l.length === 1,
      )
    )[0]!;
    await eventually(
      () => repliesText(h, parent),
      (text) => text.includes('error-rate') && text.includes('flag-off'),
    );

    const click = await h.driver.click({ user: PEOPLE.declarer, actionId: 'incident:propose-rollback' });
    expect(click.status).toBe(200);
    const [rollback] = await eventually(
      () => h.bot.reads.list({ service: 'checkout' }),
      (l) => l.length === 1,
    );
    expect(rollback).toMatchObject({
      strategy: 'flag-off',
      fromVersion: 'v1.5.0',
      toVersion: 'v1.4.1',
      incidentStartedAt: new Date(t0).toISOString(),
    });
    // Its card is drawn on the incident's message, its notices go into the incident's thread: the
    // rollback has no message of its own.
    await eventually(
      () => repliesText(h, parent),
      (text) => text.includes('declared a rollback of *checkout*') && text.includes('Approval needed'),
    );
    await eventually(
      () => blocksOf(parents(h, 'checkout')[0]),
      (b) => b.includes(rollback!.id) && b.includes('rollback:approve'),
    );
    expect(h.sim.messages(CHANNEL)).toHaveLength(1);
    expect(
      h.sim
        .ephemerals({ user: PEOPLE.declarer })
        .map((e) => e.text)
        .join('\n'),
    ).toContain("its status card is on this incident's message");

    // A second click is refused: one active rollback per service and environment.
    await h.driver.click({ user: PEOPLE.oncall, actionId: 'incident:propose-rollback' });
    await eventually(
      () =>
        h.sim
          .ephemerals({ user: PEOPLE.oncall })
          .map((e) => e.text)
          .join('\n'),
      (text) => /already|active/i.test(text),
    );
    // A declaration typed by hand joins the open incident too (and inherits its start).
    const incident = await h.bot.incidents.current('checkout', 'production');
    expect(incident?.rollbackIds).toEqual([rollback!.id]);
  }, 60_000);

  it('a plan trigger that matches after the default offer posts its own offer, whose click uses its strategy', async () => {
    const h = (harness = await start());
    const t0 = h.clock.now - 3 * 60_000;
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.4.1',
      at: t0 - 86_400_000,
    });
    await h.store.recordDeployment({
      service: 'checkout',
      environment: 'production',
      version: 'v1.5.0',
      at: t0 - 600_000,
    });
    // First an alert no trigger matches: the default offer.
    await postAlerts(
      h.port,
      '/alerts/alertmanager',
      alertmanagerPayload(
        [{ name: 'CheckoutSlow', service: 'checkout', fingerprint: 'slow', startsAt: t0 }],
        'g-slow',
      ),
    );
    const parent = (
      await eventually(
        () => parents(h, 'checkout'),
        (l) => l.length === 1,
      )
    )[0]!;
    await eventually(
      () => repliesText(h, parent),
      (text) => text.includes('default strategy'),
    );
    // Then one the plan's error-rate trigger matches: its offer follows, once.
    const matching = alertmanagerPayload(
      [
        {
          name: 'CheckoutErrors',
          service: 'checkout',
          fingerprint: 'errors',
          startsAt: t0,
          labels: { rollback_trigger: 'error-rate' },
        },
      ],
      'g-errors',
    );
    await postAlerts(h.port, '/alerts/alertmanager', matching);
    await postAlerts(h.port, '/alerts/alertmanager', matching);
    await eventually(
      () => repliesText(h, parent),
      (text) => text.includes('error-rate') && text.includes('flag-off'),
    );
    const offers = h.sim
      .replies(CHANNEL, parent.ts)
      .filter((r) => JSON.stringify(r.blocks).includes('incident:propose-rollback'));
    expect(offers).toHaveLength(2);
    await h.driver.click({
      user: PEOPLE.declarer,
      actionId: 'incident:propose-rollback',
      value: (value) => value?.includes('flag-off') === true,
    });
    const [rollback] = await eventually(
      () => h.bot.reads.list({ service: 'checkout' }),
      (l) => l.length === 1,
    );
    expect(rollback?.strategy).toBe('flag-off');
  }, 60_000);

  it('an auto trigger declares the rollback, counts down, and starts it when the delay is over', async () => {
    const h = (harness = await start());
    const t0 = h.clock.now - 60_000;
    await h.store.recordDeployment({
      service: 'payments',
      environment: 'production',
      version: 'v7',
      at: t0 - 86_400_000,
    });
    await h.store.recordDeployment({
      service: 'payments',
      environment: 'production',
      version: 'v8',
      at: t0 - 300_000,
    });
    await postAlerts(
      h.port,
      '/alerts/alertmanager',
      alertmanagerPayload([
        {
          name: 'HealthChecks',
          service: 'payments',
          startsAt: t0,
          labels: { rollback_trigger: 'health-checks' },
        },
      ]),
    );
    const [rollback] = await eventually(
      () => h.bot.reads.list({ service: 'payments' }),
      (l) => l.length === 1,
    );
    expect(rollback).toMatchObject({
      state: 'pending',
      toVersion: 'v7',
      incidentStartedAt: new Date(t0).toISOString(),
    });
    const parent = (
      await eventually(
        () => parents(h, 'payments'),
        (l) => l.length === 1,
      )
    )[0]!;
    await eventually(
      () => repliesText(h, parent),
      (text) => /rolls back automatically 2m/.test(text),
    );
    // The card, on the incident's message, carries the countdown's buttons.
    const card = await eventually(
      () =>
        h.sim
          .messages(CHANNEL)
          .find((m) => blocksOf(m).includes(rollback!.id) && blocksOf(m).includes('rollback:cancel')),
      Boolean,
    );
    expect(card!.ts).toBe(parent.ts);
    expect(blocksOf(card)).toContain('rollback:start-now');

    h.clock.now += 2 * 60_000 + 1_000;
    h.bot.runtime.timers.nudge();
    await eventually(
      () => h.bot.reads.view(rollback!.id),
      (v) => v?.state === 'resolved',
      20_000,
    );
    const view = await h.bot.reads.view(rollback!.id);
    expect(view?.timeline.some((entry) => entry.by === 'policy')).toBe(true);

    // The rollback is over; the alert resolving closes the incident.
    await postAlerts(
      h.port,
      '/alerts/alertmanager',
      alertmanagerPayload([
        {
          name: 'HealthChecks',
          service: 'payments',
          startsAt: t0,
          status: 'resolved',
          endsAt: h.clock.now,
          labels: { rollback_trigger: 'health-checks' },
        },
      ]),
    );
    await eventually(
      () => h.bot.incidents.current('payments', 'production'),
      (i) => i === null,
    );
    // From the alert to the close, one message: the rollback's notices are in the incident's thread.
    await h.bot.threads.settled();
    expect(h.sim.messages(CHANNEL).map((m) => m.ts)).toEqual([parent.ts]);
    expect(repliesText(h, parent)).toMatch(/resolved/i);
  }, 60_000);

  it('an auto trigger on a plan that touches a database still waits for a human', async () => {
    const h = (harness = await start());
    const t0 = h.clock.now - 60_000;
    await h.store.recordDeployment({
      service: 'ledger',
      environment: 'production',
      version: 'v41',
      at: t0 - 86_400_000,
    });
    await h.store.recordDeployment({
      service: 'ledger',
      environment: 'production',
      version: 'v42',
      at: t0 - 300_000,
    });
    await postAlerts(
      h.port,
      '/alerts/alertmanager',
      alertmanagerPayload([
        { name: 'LedgerErrors', service: 'ledger', startsAt: t0, labels: { rollback_trigger: 'error-rate' } },
      ]),
    );
    const [rollback] = await eventually(
      () => h.bot.reads.list({ service: 'ledger' }),
      (l) => l.length === 1,
    );
    expect(rollback?.state).toBe('pending');
    h.clock.now += 31_000;
    h.bot.runtime.timers.nudge();
    await eventually(
      () => h.bot.reads.view(rollback!.id),
      (v) => v?.state === 'declared',
    );
    // Nothing ran: the approval is a person's.
    const view = await h.bot.reads.view(rollback!.id);
    expect(view?.steps.map((s) => s.status)).toEqual(['pending']);
    expect(view?.approvals).toEqual([]);
  }, 60_000);

  it('takes the receive time for an alert that says it started in 1970, says so, and asks the first tier', async () => {
    const h = (harness = await start());
    const receivedAt = h.clock.now;
    const answer = await postAlerts(
      h.port,
      '/alerts/alertmanager',
      alertmanagerPayload([{ name: 'HighLatency', service: 'checkout', fingerprint: 'f1970', startsAt: 0 }]),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      accepted: 1,
      notes: [
        `alert HighLatency (f1970): startsAt 1970-01-01T00:00:00.000Z is more than 24 hours before now (${new Date(receivedAt).toISOString()}); the time it was received stands in`,
      ],
    });
    const incident = await h.bot.incidents.current('checkout', 'production');
    expect(incident?.startedAt).toBe(receivedAt);
    const parent = await eventually(
      () => parents(h, 'checkout')[0],
      (m) => m !== undefined && blocksOf(m).includes('the time it was received stands in'),
    );
    expect(blocksOf(parent)).toContain(
      "HighLatency's startsAt 1970-01-01T00:00:00.000Z is more than 24 hours",
    );

    // A rollback declared in it inherits that start: minute 0, so it needs the first tier, not the top one.
    h.clock.now += 60_000;
    const command = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'checkout --to v1.4.1',
      expectResponses: 1,
    });
    const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))![0];
    expect(await h.bot.reads.view(id)).toMatchObject({
      incidentStartedAt: new Date(receivedAt).toISOString(),
    });
    await eventually(
      () =>
        h.sim
          .messages(CHANNEL)
          .find((m) => blocksOf(m).includes(id) && blocksOf(m).includes('rollback:approve')),
      Boolean,
    );
    await h.driver.click({ user: PEOPLE.outsider, actionId: 'rollback:approve', value: forRollback(id) });
    await eventually(
      () =>
        h.sim
          .ephemerals({ user: PEOPLE.outsider })
          .map((e) => e.text)
          .join('\n'),
      (text) => text.includes('needs on-call-engineer or above'),
    );
    // The card asks the first tier too (the top one would read vp-engineering).
    const card = h.sim
      .messages(CHANNEL)
      .find((m) => blocksOf(m).includes(id) && blocksOf(m).includes('rollback:approve'));
    // It is on the incident's message: the rollback joined the open incident.
    expect(card?.ts).toBe(parent!.ts);
    expect(blocksOf(card)).toContain('on-call-engineer');
    expect(blocksOf(card)).not.toContain('vp-engineering');
  }, 60_000);

  it('refuses hostile deliveries with the reason, and answers 202 for services it does not know', async () => {
    const h = (harness = await start());
    const body = alertmanagerPayload([{ name: 'X', service: 'checkout', startsAt: h.clock.now }]);
    const post = (path: string, payload: unknown, headers?: Record<string, string>) =>
      postAlerts(h.port, path, payload, headers);

    expect((await post('/alerts/alertmanager', body, {})).status).toBe(401);
    expect((await post('/alerts/alertmanager', body, { authorization: 'Bearer wrong' })).status).toBe(401);
    const basic = Buffer.from(`alertmanager:${ALERT_TOKEN}`).toString('base64');
    expect((await post('/alerts/alertmanager', body, { authorization: `Basic ${basic}` })).status).toBe(200);
    const wrongBasic = Buffer.from('alertmanager:nope').toString('base64');
    expect((await post('/alerts/alertmanager', body, { authorization: `Basic ${wrongBasic}` })).status).toBe(
      401,
    );

    const badTime = alertmanagerPayload([{ name: 'X', service: 'checkout', startsAt: 0 }]);
    (badTime.alerts as Array<Record<string, unknown>>)[0]!.startsAt = 'yesterday';
    const refused = await post('/alerts/alertmanager', badTime);
    expect(refused).toEqual({
      status: 400,
      body: { error: { code: 'bad_request', message: 'alerts[0].startsAt: not an ISO time' } },
    });
    const wrongType = await post('/alerts/alertmanager', { ...body, alerts: 'many' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toEqual({
      code: 'bad_request',
      message: expect.stringMatching(/^alerts: /) as string,
    });
    expect(await post('/alerts/alertmanager', '{not json')).toEqual({
      status: 400,
      body: { error: { code: 'invalid_json', message: 'the body is not valid JSON' } },
    });
    const huge = await post('/alerts/alertmanager', JSON.stringify({ pad: 'x'.repeat(9 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatchObject({ code: 'payload_too_large' });

    const unknown = await post(
      '/alerts/alertmanager',
      alertmanagerPayload([{ name: 'X', service: 'nobody', startsAt: h.clock.now }]),
    );
    expect(unknown.status).toBe(202);
    expect(unknown.body.unknownServices).toEqual([
      { service: 'nobody', environment: 'production', alerts: 1 },
    ]);
    const unrouted = alertmanagerPayload([{ name: 'X', service: '', startsAt: h.clock.now }]);
    expect((await post('/alerts/alertmanager', unrouted)).body).toMatchObject({ unrouted: 1, accepted: 0 });

    // Grafana signs `timestamp:body` with the shared secret; a signed delivery needs no bearer.
    const grafana = JSON.stringify({
      ...alertmanagerPayload([{ name: 'G', service: 'checkout', startsAt: h.clock.now }]),
      state: 'alerting',
      title: 'G',
    });
    const grafanaHeaders = grafanaSignedHeaders(grafana, h.clock.now);
    expect((await post('/alerts/grafana', grafana, grafanaHeaders)).status).toBe(200);
    const tampered = grafanaHeaders['x-grafana-alerting-signature']!.replace(/^./, (c) =>
      c === '0' ? '1' : '0',
    );
    expect(
      (
        await post('/alerts/grafana', grafana, {
          ...grafanaHeaders,
          'x-grafana-alerting-signature': tampered,
        })
      ).status,
    ).toBe(401);
    // Signed over the body alone (no timestamp header configured in Grafana): replayable, refused.
    const bodyOnly = createHmac('sha256', ALERT_TOKEN).update(grafana).digest('hex');
    const unstamped = await post('/alerts/grafana', grafana, { 'x-grafana-alerting-signature': bodyOnly });
    expect(unstamped.status).toBe(401);
    expect(unstamped.body.error).toEqual({
      code: 'unauthorized',
      message: expect.stringMatching(/timestamp header to X-Grafana-Alerting-Signature-Timestamp/) as string,
    });
    const replay = await post(
      '/alerts/grafana',
      grafana,
      grafanaSignedHeaders(grafana, h.clock.now - 3_600_000),
    );
    expect(replay.status).toBe(401);
    expect(replay.body.error).toEqual({
      code: 'unauthorized',
      message: expect.stringMatching(/not within 5 minutes of now/) as string,
    });

    const generic = JSON.stringify({
      service: 'checkout',
      status: 'firing',
      title: 'Synthetic check failing',
    });
    expect((await post('/alerts/generic', generic, genericSignedHeaders(generic, h.clock.now))).status).toBe(
      200,
    );
    expect(
      (
        await post('/alerts/generic', generic, {
          ...genericSignedHeaders(generic, h.clock.now),
          'x-rollback-signature': 'v0=00',
        })
      ).status,
    ).toBe(401);
    expect(
      (await post('/alerts/generic', { service: 'checkout', status: 'on fire', title: 'x' })).status,
    ).toBe(400);

    const response = await fetch(`http://127.0.0.1:${h.port}/alerts/generic`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${ALERT_TOKEN}` },
      body: generic,
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({
      error: { code: 'unsupported_media_type', message: 'send the body as application/json' },
    });
    // Everything for checkout went into the one thread.
    await h.bot.threads.settled();
    expect(parents(h, 'checkout')).toHaveLength(1);
    // Counted for Prometheus.
    const metrics = await (await fetch(`http://127.0.0.1:${h.port}/metrics`)).text();
    expect(metrics).toMatch(
      /rollback_bot_alerts_received_total\{source="alertmanager",outcome="unauthorized"\} 3/,
    );
    expect(metrics).toMatch(
      /rollback_bot_alerts_received_total\{source="alertmanager",outcome="unknown_service"\} 1/,
    );
    expect(metrics).toMatch(
      /rollback_bot_incidents_opened_total\{service="checkout",environment="production"\} 1/,
    );
  }, 60_000);

  it('takes the recorded real Alertmanager payloads', async () => {
    const h = (harness = await start());
    const firing = JSON.parse(
      readFileSync('test/fixtures/alerts/alertmanager-firing.json', 'utf8'),
    ) as unknown;
    const resolved = JSON.parse(
      readFileSync('test/fixtures/alerts/alertmanager-resolved.json', 'utf8'),
    ) as unknown;
    expect((await postAlerts(h.port, '/alerts/alertmanager', firing)).body).toMatchObject({ accepted: 1 });
    await eventually(
      () => parents(h, 'checkout'),
      (l) => l.length === 1,
    );
    expect((await postAlerts(h.port, '/alerts/alertmanager', resolved)).status).toBe(200);
    await eventually(
      () => parents(h, 'checkout')[0]?.text ?? '',
      (t) => t.startsWith('Resolved'),
    );
  }, 60_000);
});
