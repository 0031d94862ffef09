/**
 * Signed alert deliveries cannot be replayed (issue "Untrusted text stays text", F5): a generic or
 * Grafana signature covers a timestamp, and the receiver refuses one more than 5 minutes from its
 * clock. A captured delivery replayed later must not reopen an incident (and, with an auto trigger,
 * run a production rollback). Real bot, real Redis, the harness clock moved by the test.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  alertmanagerPayload,
  genericSignedHeaders,
  grafanaSignedHeaders,
  postAlerts,
} from '../support/alert-payloads.js';
import { ALERT_TOKEN, eventually, startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const start = () => startBotHarness({ planFile: 'test/fixtures/e2e/alert-plans.yaml' });
const openIncidents = (h: BotHarness) => h.bot.incidents.listOpen();

describe('signed alert deliveries and replays', () => {
  it('a generic delivery replayed 6 minutes later is refused and opens no incident', async () => {
    const h = (harness = await start());
    const alert = { service: 'checkout', title: 'Synthetic check failing', fingerprint: 'synthetic-1' };
    const firing = JSON.stringify({ ...alert, status: 'firing' });
    const captured = genericSignedHeaders(firing, h.clock.now);
    const sent = await postAlerts(h.port, '/alerts/generic', firing, captured);
    expect(sent.status).toBe(200);
    expect(await openIncidents(h)).toHaveLength(1);

    const resolved = JSON.stringify({ ...alert, status: 'resolved' });
    expect(
      (await postAlerts(h.port, '/alerts/generic', resolved, genericSignedHeaders(resolved, h.clock.now)))
        .status,
    ).toBe(200);
    await eventually(
      () => openIncidents(h),
      (open) => open.length === 0,
    );

    h.clock.now += 6 * 60_000;
    const replay = await postAlerts(h.port, '/alerts/generic', firing, captured);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toEqual({
      code: 'unauthorized',
      message: expect.stringMatching(/x-rollback-timestamp header is not within 5 minutes of now/) as string,
    });
    // From the future (a sender whose clock is ahead, or a pre-signed delivery) the same.
    const ahead = await postAlerts(
      h.port,
      '/alerts/generic',
      firing,
      genericSignedHeaders(firing, h.clock.now + 6 * 60_000),
    );
    expect(ahead.status).toBe(401);
    expect(await openIncidents(h)).toEqual([]);
    // Signed again now, by someone who holds the secret, it is a new delivery.
    expect(
      (await postAlerts(h.port, '/alerts/generic', firing, genericSignedHeaders(firing, h.clock.now))).status,
    ).toBe(200);
    expect(await openIncidents(h)).toHaveLength(1);
  }, 60_000);

  it('refuses the old body-only signature and a signature without its timestamp, saying what to send', async () => {
    const h = (harness = await start());
    const body = JSON.stringify({
      service: 'payments',
      status: 'firing',
      title: 'Health checks',
      labels: { rollback_trigger: 'health-checks' },
    });
    const bodyOnly = `sha256=${createHmac('sha256', ALERT_TOKEN).update(body).digest('hex')}`;
    const old = await postAlerts(h.port, '/alerts/generic', body, { 'x-rollback-signature': bodyOnly });
    expect(old.status).toBe(401);
    expect(old.body.error).toEqual({
      code: 'unauthorized',
      message: expect.stringMatching(/needs the x-rollback-timestamp header/) as string,
    });
    // The old signature with a fresh timestamp added does not sign the timestamp: refused.
    const stamped = await postAlerts(h.port, '/alerts/generic', body, {
      'x-rollback-signature': bodyOnly,
      'x-rollback-timestamp': String(Math.floor(h.clock.now / 1000)),
    });
    expect(stamped.status).toBe(401);
    expect(stamped.body.error).toEqual({
      code: 'unauthorized',
      message: expect.stringMatching(/does not match the timestamp and body/) as string,
    });
    // A valid signature for another timestamp than the one sent: refused.
    const moved = {
      ...genericSignedHeaders(body, h.clock.now),
      'x-rollback-timestamp': String(Math.floor(h.clock.now / 1000) + 1),
    };
    expect((await postAlerts(h.port, '/alerts/generic', body, moved)).status).toBe(401);
    expect(await openIncidents(h)).toEqual([]);
    expect(await h.bot.reads.list({})).toEqual([]);
    // The bearer token is unchanged.
    expect((await postAlerts(h.port, '/alerts/generic', body)).status).toBe(200);
    expect(await openIncidents(h)).toHaveLength(1);
  }, 60_000);

  it('Grafana: signed without the timestamp header is refused; with it, within 5 minutes, accepted', async () => {
    const h = (harness = await start());
    const body = JSON.stringify({
      ...alertmanagerPayload([{ name: 'G', service: 'checkout', startsAt: h.clock.now }], 'grafana-group'),
      state: 'alerting',
      title: 'G',
    });
    const bodyOnly = createHmac('sha256', ALERT_TOKEN).update(body).digest('hex');
    const unstamped = await postAlerts(h.port, '/alerts/grafana', body, {
      'x-grafana-alerting-signature': bodyOnly,
    });
    expect(unstamped.status).toBe(401);
    expect(unstamped.body.error).toEqual({
      code: 'unauthorized',
      message: expect.stringMatching(/x-grafana-alerting-signature-timestamp/) as string,
    });
    expect(await openIncidents(h)).toEqual([]);

    const captured = grafanaSignedHeaders(body, h.clock.now);
    expect((await postAlerts(h.port, '/alerts/grafana', body, captured)).status).toBe(200);
    expect(await openIncidents(h)).toHaveLength(1);
    h.clock.now += 6 * 60_000;
    const replay = await postAlerts(h.port, '/alerts/grafana', body, captured);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toEqual({
      code: 'unauthorized',
      message: expect.stringMatching(/not within 5 minutes of now/) as string,
    });
  }, 60_000);
});
