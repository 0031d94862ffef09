/**
 * Fuzzing the alert receivers: 1,000 mutated payloads of each source (Alertmanager, Grafana,
 * CloudWatch through SNS, the generic webhook), starting from recorded or real-shaped deliveries,
 * through the parsers; then a sample of each through the bot's HTTP routes (authenticated, SNS
 * messages signed after mutation as SNS would sign them). The parsers never throw and refuse with a
 * reason; the routes answer 2xx or a 4xx with a message, never 5xx, and a refused delivery changes
 * nothing.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertmanager } from '../../src/alerts/alertmanager.js';
import { parseGeneric } from '../../src/alerts/generic.js';
import { parseGrafana } from '../../src/alerts/grafana.js';
import { cloudWatchAlarmAlerts } from '../../src/alerts/sns-cloudwatch.js';
import { parseSnsMessage } from '../../src/alerts/sns.js';
import { alertmanagerPayload, postAlerts } from '../support/alert-payloads.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { CRASH_MARKS, fuzzParameters, fuzzRuns, fuzzTimeout, mutatedJson } from '../support/fuzz.js';
import { startSnsSigner, type SnsSigner } from '../support/sns-signer.js';
import { settledFingerprint, stateFingerprint } from '../support/state-fingerprint.js';

const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:rollback-bot-alerts';
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`test/fixtures/alerts/${name}`, 'utf8')) as Record<string, unknown>;

/** Deliveries as each sender shapes them, dated `now`, for services the alert plans know. */
function bases(now: number): Record<Source, unknown[]> {
  const iso = new Date(now - 60_000).toISOString();
  const snsEnvelope = fixture('sns-cloudwatch-alarm.json');
  const alarm = JSON.parse(String(snsEnvelope['Message'])) as Record<string, unknown>;
  return {
    alertmanager: [
      fixture('alertmanager-firing.json'),
      fixture('alertmanager-resolved.json'),
      alertmanagerPayload(
        [
          {
            name: 'HighErrorRate',
            service: 'checkout',
            startsAt: now - 60_000,
            labels: { environment: 'production' },
          },
          {
            name: 'Latency',
            service: 'payments',
            startsAt: now - 30_000,
            labels: { rollback_trigger: 'health-checks' },
          },
        ],
        'group-1',
      ),
    ],
    grafana: [fixture('grafana-firing.json')],
    generic: [
      {
        service: 'checkout',
        environment: 'production',
        status: 'firing',
        title: 'Checkout 5xx above 5 %',
        fingerprint: 'gen-1',
        startsAt: iso,
        labels: { team: 'payments' },
        annotations: { runbook: 'https://runbooks.example/checkout' },
        url: 'https://grafana.example/d/checkout',
      },
      [
        { service: 'ledger', status: 'firing', title: 'Ledger lag' },
        { service: 'checkout', status: 'resolved', title: 'Old one', startsAt: iso },
      ],
    ],
    // The alarm stays an object while it is mutated, so mutations reach inside it; see snsMessage.
    'cloudwatch-sns': [
      { ...snsEnvelope, TopicArn: TOPIC, Timestamp: new Date(now).toISOString(), Message: alarm },
    ],
  };
}

type Source = 'alertmanager' | 'grafana' | 'generic' | 'cloudwatch-sns';
const SOURCES: Source[] = ['alertmanager', 'grafana', 'generic', 'cloudwatch-sns'];

/** An SNS message as it goes on the wire: string fields, the alarm JSON-encoded in `Message`. */
function snsMessage(mutant: unknown): unknown {
  if (mutant === null || typeof mutant !== 'object' || Array.isArray(mutant)) return mutant;
  const message = mutant as Record<string, unknown>;
  return typeof message['Message'] === 'object' && message['Message'] !== null
    ? { ...message, Message: JSON.stringify(message['Message']) }
    : message;
}

const mutants = (source: Source, now: number): fc.Arbitrary<unknown> =>
  fc
    .constantFrom(...bases(now)[source])
    .chain((base) => mutatedJson(base))
    .map((mutant) => (source === 'cloudwatch-sns' ? snsMessage(mutant) : mutant));

/** What the parser of each source makes of a body: a refusal's reason, or null when accepted. */
function parse(source: Source, body: unknown, now: number): string | null {
  switch (source) {
    case 'alertmanager': {
      const parsed = parseAlertmanager(body);
      return parsed.ok ? null : parsed.reason;
    }
    case 'grafana': {
      const parsed = parseGrafana(body);
      return parsed.ok ? null : parsed.reason;
    }
    case 'generic': {
      const parsed = parseGeneric(body, now);
      return parsed.ok ? null : parsed.reason;
    }
    case 'cloudwatch-sns': {
      const envelope = parseSnsMessage(body);
      if (!envelope.ok) return envelope.reason;
      if (envelope.message.Type !== 'Notification') return null;
      const alarm = cloudWatchAlarmAlerts(envelope.message);
      return alarm.ok ? null : alarm.reason;
    }
  }
}

const NOW = Date.UTC(2026, 10, 23, 6, 0, 0);

describe('alert parsers, fuzzed', () => {
  it.each(SOURCES)(
    `%s: ${fuzzRuns(1_000)} mutated payloads, never a throw, every refusal a reason`,
    (source) => {
      const seen = { accepted: 0, refused: 0 };
      fc.assert(
        fc.property(mutants(source, NOW), (body) => {
          const reason = parse(source, body, NOW);
          if (reason === null) {
            seen.accepted += 1;
            return;
          }
          seen.refused += 1;
          expect(reason.trim().length).toBeGreaterThan(5);
          expect(reason.length).toBeLessThan(2_000);
          expect(reason).not.toMatch(CRASH_MARKS);
        }),
        fuzzParameters(fuzzRuns(1_000)),
      );
      console.info(`alert parser fuzz, ${source}: ${JSON.stringify(seen)}`);
      expect(seen.refused).toBeGreaterThan(0);
    },
    fuzzTimeout(20_000),
  );
});

describe('alert routes, fuzzed (the bot over HTTP, real Redis)', () => {
  let h: BotHarness;
  let signer: SnsSigner;
  beforeAll(async () => {
    signer = await startSnsSigner();
    h = await startBotHarness({
      planFile: 'test/fixtures/e2e/alert-plans.yaml',
      bot: { snsReceiver: signer.receiverOptions([TOPIC]) },
    });
  });
  afterAll(async () => {
    await h.stop();
    await signer.close();
  });

  const PATHS: Record<Source, string> = {
    alertmanager: '/alerts/alertmanager',
    grafana: '/alerts/grafana',
    generic: '/alerts/generic',
    'cloudwatch-sns': '/alerts/sns',
  };

  async function post(
    source: Source,
    body: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    if (source !== 'cloudwatch-sns') return postAlerts(h.port, PATHS[source], body);
    // Signed after the mutation, as SNS signs what it sends: the receiver gets past the signature.
    const signable =
      body !== null && typeof body === 'object' && !Array.isArray(body)
        ? signer.sign(body as Record<string, string>)
        : body;
    return postAlerts(h.port, PATHS[source], signable, {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': 'Notification',
    });
  }

  it(
    `answers ${fuzzRuns(25)} mutated deliveries of each source with 2xx or a 4xx and a message, never 5xx`,
    async () => {
      const counts: Record<string, number> = {};
      let state = await stateFingerprint(h.store);
      let settled = true;
      const deliveries = fc
        .constantFrom(...SOURCES)
        .chain((source) => mutants(source, h.clock.now).map((body) => ({ source, body })));
      await fc.assert(
        fc.asyncProperty(deliveries, async ({ source, body }) => {
          if (!settled) {
            // The incidents an accepted delivery opened go on working after its answer.
            state = await settledFingerprint(h.store, 100);
            settled = true;
          }
          const answer = await post(source, body);
          const key = `${source} ${answer.status}`;
          counts[key] = (counts[key] ?? 0) + 1;
          expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
          if (answer.status >= 400) {
            const error = answer.body['error'] as { message?: unknown } | undefined;
            expect(typeof error?.message).toBe('string');
            expect(String(error?.message).length).toBeGreaterThan(5);
            expect(String(error?.message)).not.toMatch(CRASH_MARKS);
            expect(await stateFingerprint(h.store), `refused ${source} delivery changed the state`).toBe(
              state,
            );
          } else {
            settled = false;
          }
        }),
        fuzzParameters(fuzzRuns(25) * SOURCES.length),
      );
      console.info(`alert route fuzz: ${JSON.stringify(counts)}`);
      expect((await fetch(`http://127.0.0.1:${h.port}/healthz`)).status).toBe(200);
    },
    fuzzTimeout(60_000),
  );
});
