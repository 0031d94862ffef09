/**
 * A storm: 10,000 alerts in 1,000 webhooks for 50 services, 100 deliveries in flight, through the
 * bot's HTTP receiver into real Redis. Exactly one thread per service, no alert lost (counted), and
 * redeliveries in the middle of it change nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { alertmanagerPayload, postAlerts, stormPlanFile, stormService } from '../support/alert-payloads.js';
import { CHANNEL, startBotHarness, type BotHarness } from '../support/bot-harness.js';

const SERVICES = 50;
const WEBHOOKS = 1_000;
const PER_WEBHOOK = 10;
const IN_FLIGHT = 100;

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  }
  return results;
}

describe('alert storm', () => {
  it('10,000 alerts in 1,000 webhooks for 50 services open exactly 50 threads and lose none', async () => {
    const h = (harness = await startBotHarness({ planFile: stormPlanFile(SERVICES, CHANNEL) }));
    const startsAt = h.clock.now - 60_000;
    const webhooks = Array.from({ length: WEBHOOKS }, (_, w) => {
      const service = stormService(w % SERVICES);
      const alerts = Array.from({ length: PER_WEBHOOK }, (_, a) => ({
        name: `Alert${a}`,
        service,
        fingerprint: `${w}-${a}`,
        startsAt: startsAt + a,
      }));
      return alertmanagerPayload(alerts, `{}:{service="${service}",batch="${w}"}`);
    });

    const began = performance.now();
    const answers = await inBatches(webhooks, IN_FLIGHT, (body) =>
      postAlerts(h.port, '/alerts/alertmanager', body),
    );
    const elapsed = performance.now() - began;
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expect(answers.reduce((sum, a) => sum + Number(a.body.accepted), 0)).toBe(WEBHOOKS * PER_WEBHOOK);
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(0);

    // Alertmanager retries some of them: nothing changes.
    const again = await inBatches(webhooks.slice(0, 100), IN_FLIGHT, (body) =>
      postAlerts(h.port, '/alerts/alertmanager', body),
    );
    expect(again.every((a) => a.status === 200 && a.body.duplicate === true)).toBe(true);

    await h.bot.threads.settled();
    const open = await h.bot.incidents.listOpen();
    expect(open).toHaveLength(SERVICES);
    expect(open.reduce((sum, incident) => sum + incident.alerts, 0)).toBe(WEBHOOKS * PER_WEBHOOK);
    expect(open.every((incident) => incident.firing === (WEBHOOKS / SERVICES) * PER_WEBHOOK)).toBe(true);
    const parents = h.sim.messages(CHANNEL).filter((m) => m.text.startsWith('Incident: svc-'));
    expect(parents).toHaveLength(SERVICES);
    expect(new Set(parents.map((m) => m.text.split(' ')[1])).size).toBe(SERVICES);
    const posts = h.sim.callsTo('chat.postMessage').length;
    const updates = h.sim.callsTo('chat.update').length;
    console.log(
      `storm: ${WEBHOOKS} webhooks / ${WEBHOOKS * PER_WEBHOOK} alerts in ${Math.round(elapsed)} ms ` +
        `(${Math.round((WEBHOOKS * 1_000) / elapsed)} webhooks/s); Slack: ${posts} posts, ${updates} updates`,
    );
  }, 180_000);
});
