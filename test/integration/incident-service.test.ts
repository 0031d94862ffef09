/**
 * The incident service as replicas run it: two services over one real Redis (their only shared
 * state), deliveries racing, and the automatic rollback's declaration failing once. `declare` is
 * the service's port to the rollback service; here it plays the engine's one-active-rollback lock.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { IncidentService } from '../../src/app/incident-service.js';
import type { DeclareOutcome, DeclareRequest } from '../../src/app/rollback-service.js';
import type { Incident } from '../../src/domain/incident.js';
import type { RollbackPlan } from '../../src/domain/plan.js';
import { createStakeholders } from '../../src/notifiers/create-stakeholders.js';
import type { StakeholderOutbox } from '../../src/notifiers/stakeholder-outbox.js';
import { COLLECTIONS } from '../../src/store/collections.js';
import type { SnsMessage } from '../../src/notifiers/targets/sns/publisher.js';
import { silentLogger } from '../../src/lib/logging.js';
import { createRedisStore } from '../../src/store/redis/redis-store.js';
import type { Store } from '../../src/store/store.js';
import { standardPolicy, standardStrategy, T0 } from '../support/domain-fixtures.js';
import { deleteKeysWithPrefix } from '../support/redis-cleanup.js';

const URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefixes: string[] = [];
const stores: Store[] = [];
const outboxes: StakeholderOutbox[] = [];
afterEach(async () => {
  await Promise.all(outboxes.splice(0).map((outbox) => outbox.stop(0)));
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  const redis = new Redis(URL);
  for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

const plan: RollbackPlan = {
  name: 'checkout',
  service: 'checkout',
  channel: 'C0INCIDENTS',
  environments: ['production'],
  criticality: 'high',
  rtoMs: 900_000,
  authority: 'default',
  defaultStrategy: 'blue-green',
  strategies: { 'blue-green': standardStrategy() },
  triggers: [{ name: 'errors', match: { rollback_trigger: 'error-rate' }, action: 'auto', delayMs: 30_000 }],
  limitations: [],
};
const catalog = () => ({
  plans: new Map([['checkout', plan]]),
  policies: new Map([['default', standardPolicy()]]),
});

function alert(fingerprint: string, labels: Record<string, string> = {}): Alert {
  return {
    source: 'alertmanager',
    fingerprint,
    status: 'firing',
    service: 'checkout',
    environment: 'production',
    labels: { alertname: fingerprint, service: 'checkout', ...labels },
    annotations: {},
    startsAt: T0,
    endsAt: null,
    summary: fingerprint,
    url: null,
  };
}

/** Two replicas: their own IncidentService, each over its own connection to the same Redis prefix. */
async function replicas(
  declare: (request: DeclareRequest, replica: IncidentService) => Promise<DeclareOutcome>,
  /** Each replica's own stakeholders over its own store (what the bot wires as `tellOpened`). */
  stakeholders?: (store: Store) => (incident: Incident) => Promise<void>,
) {
  const prefix = `rollback-bot-test:incidents:${process.pid}-${randomBytes(4).toString('hex')}`;
  prefixes.push(prefix);
  let ids = 0;
  const make = async (name: string) => {
    const store = await createRedisStore({ url: URL, prefix });
    stores.push(store);
    const service: IncidentService = new IncidentService({
      store,
      catalog,
      declare: (request) => declare(request, service),
      announce: () => undefined,
      ...(stakeholders ? { tellOpened: stakeholders(store) } : {}),
      now: () => T0 + 60_000,
      newId: () => `inc-${name}-${++ids}`,
      log: silentLogger,
    });
    return service;
  };
  return [await make('a'), await make('b')] as const;
}

describe('IncidentService across replicas (real Redis)', () => {
  it('tells stakeholders the incident opened once, across replicas, redeliveries and later alerts', async () => {
    const published: SnsMessage[] = [];
    const order: string[] = [];
    const topic = 'arn:aws:sns:eu-west-3:123456789012:stakeholders';
    let shared: Store | undefined;
    const [a, b] = await replicas(
      async (request) => {
        // What the topic's lane holds (waiting or sent) when the rollback is declared.
        const lane = await shared!.getDoc(COLLECTIONS.stakeholderOutbox, `sns:${topic}`);
        order.push(`declare ${request.service} after ${JSON.stringify(lane?.value ?? null)}`);
        return { ok: false, code: 'refused', message: 'not here' } as const;
      },
      (store) => {
        shared = store;
        const { incidentOpened, outbox } = createStakeholders({
          store,
          view: () => Promise.resolve(null),
          planOf: () => ({
            ...plan,
            communications: { sns: { topicArn: topic } },
          }),
          communicationsOf: () => undefined,
          slack: { postMessage: () => Promise.resolve({}) },
          sns: {
            publish(message) {
              order.push(`publish ${message.attributes.event}`);
              published.push(message);
              return Promise.resolve({ messageId: `m-${published.length}` });
            },
          },
          report: () => undefined,
          log: silentLogger,
          outbox: { pollMs: 60_000 },
        });
        outboxes.push(outbox);
        return (incident) => incidentOpened(incident, incident.openedAt);
      },
    );
    const first = alert('e1', { rollback_trigger: 'error-rate', severity: 'page' });
    await Promise.all([
      a.receive({ key: 'k1', alerts: [first] }),
      b.receive({ key: 'k1', alerts: [first] }),
      b.receive({ key: 'k2', alerts: [alert('e2')] }),
    ]);
    await a.receive({ key: 'k1', alerts: [first] });
    await Promise.all(outboxes.map((outbox) => outbox.idle()));
    expect(published).toHaveLength(1);
    const open = await a.listOpen();
    expect(published[0]).toMatchObject({
      attributes: { event: 'incident-opened', incidentId: open[0]!.id },
      dedupeKey: `incident-opened:${open[0]!.id}`,
    });
    expect(published[0]!.message).toContain('Severity: PAGE');
    // Stakeholders hear of the incident before its automatic rollback: its message was kept in the
    // topic's lane (sent in order) before the rollback was declared.
    const declared = order.find((line) => line.startsWith('declare checkout'));
    expect(declared).toContain(`incident-opened:${open[0]!.id}:sns`);
  });

  it('two replicas receiving the first alerts at once open one incident holding all of them', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = await replicas(() =>
        Promise.resolve({ ok: false, code: 'refused', message: 'not here' } as const),
      );
      await Promise.all([
        a.receive({ key: `a${round}`, alerts: [alert('a1'), alert('a2')] }),
        b.receive({ key: `b${round}`, alerts: [alert('b1')] }),
        a.receive({ key: `c${round}`, alerts: [alert('c1')] }),
        b.receive({ key: `d${round}`, alerts: [alert('d1')] }),
      ]);
      const open = await a.listOpen();
      expect(open).toHaveLength(1);
      expect(open[0]!.alerts).toBe(5);
      expect((await b.current('checkout', 'production'))?.id).toBe(open[0]!.id);
    }
  });

  it('declares the automatic rollback once, and again on the next delivery when the first attempt failed', async () => {
    let attempts = 0;
    let active: string | null = null;
    const [a, b] = await replicas(async (_request, replica) => {
      attempts++;
      if (attempts === 1) throw new Error('the store did not answer');
      if (active !== null) {
        return {
          ok: false,
          code: 'active_rollback_exists',
          message: `rollback ${active} is active`,
          activeId: active,
        };
      }
      active = 'rb-1';
      const incident = await replica.current('checkout', 'production');
      await replica.join(incident!.id, 'rb-1');
      return { ok: true } as unknown as DeclareOutcome;
    });
    const delivery = { key: 'k1', alerts: [alert('e1', { rollback_trigger: 'error-rate' })] };
    await expect(a.receive(delivery)).rejects.toThrow('the store did not answer');
    // Alertmanager retries (it got a 500), and both replicas see it at once.
    await Promise.all([a.receive(delivery), b.receive(delivery)]);
    const incident = await a.current('checkout', 'production');
    expect(incident?.rollbackIds).toEqual(['rb-1']);
    expect(incident?.trigger).toMatchObject({ name: 'errors', action: 'auto', settled: true });
    expect(incident?.trigger?.refused).toBeUndefined();
  });

  it('a rollback declared in the incident joins it when its notice comes, if the join was lost', async () => {
    const [a, b] = await replicas(() =>
      Promise.resolve({ ok: false, code: 'refused', message: 'not here' } as const),
    );
    await a.receive({ key: 'k1', alerts: [alert('x1')] });
    const incident = await a.current('checkout', 'production');
    expect(incident?.rollbackIds).toEqual([]);
    // The declaration recorded its incident, then the process died before joining it.
    const rollback = { id: 'rb-lost', service: 'checkout', environment: 'production', final: false };
    await b.rollbackNoticed({ ...rollback, incidentId: incident!.id });
    expect((await a.current('checkout', 'production'))?.rollbackIds).toEqual(['rb-lost']);
    // A rollback of another incident (or none) is not taken in.
    await b.rollbackNoticed({ ...rollback, id: 'rb-other', incidentId: 'inc-elsewhere' });
    await b.rollbackNoticed({ ...rollback, id: 'rb-none' });
    expect((await a.current('checkout', 'production'))?.rollbackIds).toEqual(['rb-lost']);
  });
});
