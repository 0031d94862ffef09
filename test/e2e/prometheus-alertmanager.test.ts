/**
 * The alert journey with the real peers: a local service exposes a 5xx ratio over the threshold,
 * a real Prometheus evaluates the shipped rule (windows shortened), a real Alertmanager posts to the
 * bot, the incident thread opens in the simulator with the plan's offer; when the service is
 * healthy again, the alert resolves and the thread says so.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimMessage } from '../../src/simulator/index.js';
import {
  ALERT_TOKEN,
  CHANNEL,
  eventually,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { acceleratedRules, startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';

let harness: BotHarness | undefined;
let stack: PrometheusStack | undefined;
let service: Server | undefined;
afterEach(async () => {
  await stack?.stop();
  await harness?.stop();
  await new Promise<void>((resolve) => {
    if (service)
      service.close(() => {
        resolve();
      });
    else resolve();
  });
  stack = undefined;
  harness = undefined;
  service = undefined;
});

/** A service whose counters grow at each scrape: 10 % of its responses fail while it is sick. */
async function flakyService(): Promise<{ port: number; heal(): void }> {
  let sick = true;
  let ok = 0;
  let failed = 0;
  service = createServer((_req, res) => {
    ok += 90;
    if (sick) failed += 10;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# TYPE http_requests_total counter',
        `http_requests_total{code="200"} ${ok}`,
        `http_requests_total{code="500"} ${failed}`,
        '',
      ].join('\n'),
    );
  });
  await new Promise<void>((resolve) => service!.listen(0, '127.0.0.1', resolve));
  const address = service.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    heal: () => {
      sick = false;
    },
  };
}

const parentOf = (h: BotHarness): SimMessage | undefined =>
  h.sim.messages(CHANNEL).find((m) => /^(Incident|Resolved): checkout \(production\)/.test(m.text));

describe('real Prometheus and Alertmanager', () => {
  it('a 5xx ratio over 5 % opens the checkout thread with the offer, and healing resolves it', async () => {
    const h = (harness = await startBotHarness({ planFile: 'test/fixtures/e2e/alert-plans.yaml' }));
    const target = await flakyService();
    stack = await startPrometheusStack({
      target: `127.0.0.1:${target.port}`,
      targetLabels: { service: 'checkout' },
      rules: acceleratedRules('manifests/prometheus/rollback-rules.yaml'),
      webhookUrl: `http://127.0.0.1:${h.port}/alerts/alertmanager`,
      token: ALERT_TOKEN,
    });
    const s = stack;
    const describeState = () =>
      `${JSON.stringify(h.sim.messages(CHANNEL).map((m) => m.text))}\n${s.logs().slice(-3_000)}`;

    const parent = await eventually(() => parentOf(h), Boolean, 60_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${describeState()}`);
    });
    expect(parent!.text).toMatch(/^Incident: checkout \(production\)/);
    expect(JSON.stringify(parent!.blocks)).toContain('RollbackErrorRateHigh');
    // The shipped rule's `rollback_trigger: error-rate` label matched the plan's trigger.
    await eventually(
      () =>
        h.sim
          .replies(CHANNEL, parent!.ts)
          .map((r) => JSON.stringify(r.blocks))
          .join('\n'),
      (text) => text.includes('incident:propose-rollback') && text.includes('error-rate'),
    );

    target.heal();
    await eventually(
      () => parentOf(h)?.text ?? '',
      (text) => text.startsWith('Resolved: checkout'),
      90_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${describeState()}`);
    });
    await eventually(
      () =>
        h.sim
          .replies(CHANNEL, parent!.ts)
          .map((r) => r.text)
          .join('\n'),
      (text) => /closed after/.test(text),
    );
    expect(h.sim.messages(CHANNEL).filter((m) => /checkout \(production\)/.test(m.text))).toHaveLength(1);
  }, 180_000);
});
