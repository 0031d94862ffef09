/**
 * The Statuspage notifier against a local Statuspage that enforces 1 request per second per key
 * (429 otherwise), throws in 420s and 503s, and checks the OAuth header and the JSON bodies. Time is
 * virtual (a JumpClock shared by the queue and the server), so the rate rule is checked exactly and
 * minutes of backoff take no real time; one test runs on the real clock to prove the defaults.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../../../src/lib/logging.js';
import { RateQueue, type RateQueueOptions } from '../../../src/notifiers/rate-queue.js';
import {
  StatuspageClient,
  StatuspageNotifier,
  type RollbackPhase,
  type StatuspageUpdate,
} from '../../../src/notifiers/targets/statuspage/notifier.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { createRedisStore } from '../../../src/store/redis/redis-store.js';
import type { Store } from '../../../src/store/store.js';
import { startFakeStatuspage, type FakeStatuspage } from '../../support/fake-statuspage.js';
import { startPeer } from '../../support/http-peer.js';
import { JumpClock } from '../../support/jump-clock.js';
import { deleteKeysWithPrefix } from '../../support/redis-cleanup.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY_A = 'key-a-0123456789';
const KEY_B = 'key-b-9876543210';

const servers: FakeStatuspage[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function fakeStatuspage(now: () => number): Promise<FakeStatuspage> {
  const server = await startFakeStatuspage({ keys: [KEY_A, KEY_B], now });
  servers.push(server);
  return server;
}

/** Two Redis stores on one key prefix: what two replicas share. Removed when the test ends. */
async function replicaStores(): Promise<[Store, Store]> {
  const prefix = `rollback-bot-test:statuspage:${process.pid}-${Date.now().toString(36)}`;
  const stores: [Store, Store] = [
    await createRedisStore({ url: REDIS_URL, prefix }),
    await createRedisStore({ url: REDIS_URL, prefix }),
  ];
  onTestFinished(async () => {
    await Promise.all(stores.map((store) => store.close()));
    const admin = new Redis(REDIS_URL);
    await deleteKeysWithPrefix(admin, prefix);
    admin.disconnect();
  });
  return stores;
}

function logger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { log, lines };
}

function bot(options: {
  apiUrl: string;
  apiKey?: string;
  clock?: JumpClock;
  store?: Store;
  queue?: RateQueue;
  queueOptions?: Partial<RateQueueOptions>;
}) {
  const { log, lines } = logger();
  const clock = options.clock;
  const queue =
    options.queue ??
    new RateQueue({
      log,
      ...(clock ? { now: clock.now, sleep: clock.sleep } : {}),
      ...options.queueOptions,
    });
  const client = new StatuspageClient({
    apiUrl: options.apiUrl,
    apiKey: options.apiKey ?? KEY_A,
    queue,
    log,
  });
  const store = options.store ?? new MemoryStore();
  const failures: Array<{ rollbackId: string; message: string }> = [];
  const notifier = new StatuspageNotifier({
    client,
    store,
    log,
    onFailure: (rollbackId, message) => failures.push({ rollbackId, message }),
    ...(clock ? { now: clock.now } : {}),
  });
  return { queue, client, store, notifier, failures, lines };
}

const update = (phase: RollbackPhase, overrides: Partial<StatuspageUpdate> = {}): StatuspageUpdate => ({
  effectId: `rb-1:${phase}`,
  rollbackId: 'rb-1',
  phase,
  pageId: 'page-1',
  componentIds: ['cmp-api', 'cmp-web'],
  outage: 'major_outage',
  name: 'checkout: rolling back to v1.4.1',
  body: `checkout is ${phase}`,
  ...overrides,
});

const LIFECYCLE: RollbackPhase[] = ['authorized', 'executing', 'validating', 'resolved'];

describe('StatuspageNotifier (local Statuspage enforcing 1 request/s per key)', () => {
  it('lands the whole lifecycle in order with the exact bodies, through 420 and 503, never faster than 1/s', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { notifier, queue, store, failures } = bot({ apiUrl: server.apiUrl, clock });
    server.failNext({ status: 420 }, { status: 503, retryAfter: '3' });

    for (const phase of LIFECYCLE) expect(notifier.update(update(phase))).toBe(true);
    expect(server.requests).toHaveLength(0);
    // A repeat of a queued effect is not queued again.
    expect(notifier.update(update('executing'))).toBe(false);
    await queue.idle();

    expect(failures).toEqual([]);
    expect(server.violations).toEqual([]);
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /v1/pages/page-1/incidents 420',
      'POST /v1/pages/page-1/incidents 503',
      'POST /v1/pages/page-1/incidents 201',
      'PATCH /v1/pages/page-1/incidents/inc-1 200',
      'PATCH /v1/pages/page-1/incidents/inc-1 200',
      'PATCH /v1/pages/page-1/incidents/inc-1 200',
    ]);
    expect(server.requests.every((r) => r.key === KEY_A)).toBe(true);
    // Retry-After: 3 was honoured.
    expect(server.requests[2]!.at - server.requests[1]!.at).toBeGreaterThanOrEqual(3_000);
    expect(server.requests.slice(2).map((r) => r.body)).toEqual([
      {
        incident: {
          name: 'checkout: rolling back to v1.4.1',
          status: 'investigating',
          body: 'checkout is authorized',
          components: { 'cmp-api': 'major_outage', 'cmp-web': 'major_outage' },
          component_ids: ['cmp-api', 'cmp-web'],
          impact_override: 'critical',
        },
      },
      { incident: { status: 'identified', body: 'checkout is executing' } },
      {
        incident: {
          status: 'monitoring',
          body: 'checkout is validating',
          components: { 'cmp-api': 'degraded_performance', 'cmp-web': 'degraded_performance' },
          component_ids: ['cmp-api', 'cmp-web'],
        },
      },
      {
        incident: {
          status: 'resolved',
          body: 'checkout is resolved',
          components: { 'cmp-api': 'operational', 'cmp-web': 'operational' },
          component_ids: ['cmp-api', 'cmp-web'],
        },
      },
    ]);
    expect(server.incidents.get('inc-1')).toMatchObject({
      status: 'resolved',
      components: { 'cmp-api': 'operational', 'cmp-web': 'operational' },
    });
    expect((await store.getDoc('statuspage-incidents', 'rb-1'))?.value).toMatchObject({
      incidentId: 'inc-1',
      status: 'resolved',
      applied: LIFECYCLE.map((phase) => `rb-1:${phase}`),
    });

    // The same effects delivered again (another worker, a reclaim) send nothing.
    for (const phase of LIFECYCLE) notifier.update(update(phase));
    await queue.idle();
    expect(server.requests).toHaveLength(6);
  });

  it('opens at the declaration with the plan’s outage and impact, and says a called-off rollback on it', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { notifier, queue, failures } = bot({ apiUrl: server.apiUrl, clock });
    const partial = { outage: 'partial_outage' } as const;
    notifier.update(update('declared', partial));
    notifier.update(update('authorized', partial));
    notifier.update(update('called-off', { ...partial, body: 'The planned rollback was called off.' }));
    await queue.idle();
    expect(failures).toEqual([]);
    expect(server.requests.map((r) => r.body)).toEqual([
      {
        incident: {
          name: 'checkout: rolling back to v1.4.1',
          status: 'investigating',
          body: 'checkout is declared',
          components: { 'cmp-api': 'partial_outage', 'cmp-web': 'partial_outage' },
          component_ids: ['cmp-api', 'cmp-web'],
          impact_override: 'major',
        },
      },
      {
        incident: {
          status: 'investigating',
          body: 'checkout is authorized',
          components: { 'cmp-api': 'partial_outage', 'cmp-web': 'partial_outage' },
          component_ids: ['cmp-api', 'cmp-web'],
          impact_override: 'major',
        },
      },
      // Left open at its status: the customers' problem is not over because a rollback was not run.
      { incident: { status: 'investigating', body: 'The planned rollback was called off.' } },
    ]);
    expect(server.incidents.get('inc-1')).toMatchObject({ status: 'investigating', impact: 'major' });
  });

  it('a called-off rollback that never opened an incident sends nothing', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { notifier, queue } = bot({ apiUrl: server.apiUrl, clock });
    notifier.update(update('called-off'));
    await queue.idle();
    expect(server.requests).toEqual([]);
  });

  it('lets another replica continue the incident the first one opened (the id is in Redis)', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const [one, two] = await replicaStores();
    const first = bot({ apiUrl: server.apiUrl, clock, store: one });
    const second = bot({ apiUrl: server.apiUrl, clock, store: two });
    first.notifier.update(update('authorized'));
    await first.queue.idle();
    // Replicas have their own queues; a second apart, as a later effect would be.
    await clock.sleep(1_000);
    second.notifier.update(update('executing'));
    await second.queue.idle();
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/pages/page-1/incidents',
      'PATCH /v1/pages/page-1/incidents/inc-1',
    ]);
    expect(server.incidents.size).toBe(1);
    // The first effect delivered again, to the other replica: nothing is sent.
    second.notifier.update(update('authorized'));
    await second.queue.idle();
    expect(server.requests).toHaveLength(2);
  });

  it('two replicas racing: the second waits for the incident the first is opening instead of opening another', async () => {
    const server = await fakeStatuspage(Date.now);
    const [one, two] = await replicaStores();
    const first = bot({ apiUrl: server.apiUrl, store: one });
    const second = bot({
      apiUrl: server.apiUrl,
      store: two,
      queueOptions: { baseDelayMs: 50, maxAttempts: 20 },
    });
    server.hold(KEY_A);
    first.notifier.update(update('authorized'));
    await until(() => server.requests.length === 1);
    second.notifier.update(update('executing'));
    await until(() => second.lines.some((line) => line.msg === 'call failed; retrying'));
    expect(second.lines.find((line) => line.msg === 'call failed; retrying')).toMatchObject({
      error: 'another replica is opening the incident',
    });
    server.release(KEY_A);
    await Promise.all([first.queue.idle(), second.queue.idle()]);
    expect(server.incidents.size).toBe(1);
    expect(
      server.requests.filter((r) => r.status !== 429).map((r) => `${r.method} ${r.path} ${r.status}`),
    ).toEqual(['POST /v1/pages/page-1/incidents 201', 'PATCH /v1/pages/page-1/incidents/inc-1 200']);
    expect([...first.failures, ...second.failures]).toEqual([]);
  });

  it('keeps a failed rollback open with an update, and drops an update arriving after a later one', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { notifier, queue } = bot({ apiUrl: server.apiUrl, clock });
    notifier.update(update('authorized'));
    notifier.update(update('validating'));
    notifier.update(update('executing'));
    notifier.update(update('failed', { body: 'The rollback failed at step 2' }));
    await queue.idle();
    expect(server.requests.map((r) => r.body)).toEqual([
      expect.objectContaining({ incident: expect.objectContaining({ status: 'investigating' }) as unknown }),
      expect.objectContaining({ incident: expect.objectContaining({ status: 'monitoring' }) as unknown }),
      { incident: { status: 'monitoring', body: 'The rollback failed at step 2' } },
    ]);
    expect(server.incidents.get('inc-1')?.status).toBe('monitoring');
  });

  it('a dead status page: update returns at once, the rollback is told after the retries', async () => {
    const clock = new JumpClock();
    const dead = await startPeer(() => undefined);
    const apiUrl = `${dead.url}/v1`;
    await dead.close();
    const { notifier, queue, failures, store } = bot({ apiUrl, clock, queueOptions: { maxAttempts: 4 } });

    // `update` is synchronous: it returns with the call queued, before any connection is tried.
    expect(notifier.update(update('authorized'))).toBe(true);
    expect(queue.size).toBe(1);
    expect(failures).toEqual([]);

    await queue.idle();
    expect(failures).toHaveLength(1);
    expect(failures[0]!.rollbackId).toBe('rb-1');
    expect(failures[0]!.message).toMatch(
      /^The status page could not open the incident: Statuspage did not answer: .*ECONNREFUSED.* \(4 attempts\)\. The rollback is not affected\.$/,
    );
    // The creation claim was released, so a later update may open the incident.
    expect((await store.getDoc('statuspage-incidents', 'rb-1'))?.value).not.toHaveProperty('creating');
  });

  it('opens the incident late, at the current phase, when the first call was given up', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { notifier, queue, failures } = bot({
      apiUrl: server.apiUrl,
      clock,
      queueOptions: { maxAttempts: 2 },
    });
    server.failNext({ status: 503 }, { status: 503 });
    notifier.update(update('authorized'));
    await queue.idle();
    expect(failures.map((f) => f.message)).toEqual([
      'The status page could not open the incident: Statuspage answered 503 to POST /pages/page-1/incidents: fault 503 (2 attempts). The rollback is not affected.',
    ]);
    notifier.update(update('executing'));
    await queue.idle();
    expect(server.requests.at(-1)?.body).toEqual({
      incident: {
        name: 'checkout: rolling back to v1.4.1',
        status: 'identified',
        body: 'checkout is executing',
        components: { 'cmp-api': 'major_outage', 'cmp-web': 'major_outage' },
        component_ids: ['cmp-api', 'cmp-web'],
        impact_override: 'critical',
      },
    });
  });

  it('gives a refused key up at once, without retrying', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { notifier, queue, failures, lines } = bot({ apiUrl: server.apiUrl, apiKey: 'wrong-key', clock });
    notifier.update(update('authorized'));
    await queue.idle();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.key).toBe('wrong-key');
    expect(failures.map((f) => f.message)).toEqual([
      'The status page could not open the incident: Statuspage answered 401 to POST /pages/page-1/incidents: Could not authenticate. The rollback is not affected.',
    ]);
    expect(JSON.stringify(lines)).not.toContain('wrong-key');
  });

  it('two keys proceed independently: one held by a stalled server does not stop the other', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { log } = logger();
    const queue = new RateQueue({ log, now: clock.now, sleep: clock.sleep });
    const a = bot({ apiUrl: server.apiUrl, apiKey: KEY_A, clock, queue });
    const b = bot({ apiUrl: server.apiUrl, apiKey: KEY_B, clock, queue });
    server.hold(KEY_A);
    for (const phase of LIFECYCLE) {
      a.notifier.update(update(phase, { rollbackId: 'rb-a', effectId: `rb-a:${phase}` }));
      b.notifier.update(update(phase, { rollbackId: 'rb-b', effectId: `rb-b:${phase}`, pageId: 'page-2' }));
    }
    await until(() => server.requests.filter((r) => r.key === KEY_B).length === 4 && queue.size === 4);
    // B's whole lifecycle went through while A's first request is still waiting for its answer.
    expect(server.requests.filter((r) => r.key === KEY_A)).toHaveLength(1);
    expect([...server.incidents.values()].find((i) => i.pageId === 'page-2')?.status).toBe('resolved');

    server.release(KEY_A);
    await queue.idle();
    expect(server.requests.filter((r) => r.key === KEY_A).map((r) => r.status)).toEqual([201, 200, 200, 200]);
    expect(server.violations).toEqual([]);
    expect(a.failures).toEqual([]);
    expect(b.failures).toEqual([]);
  });

  it('on the real clock with the default queue, never trips the server rate limit', async () => {
    const server = await fakeStatuspage(Date.now);
    const { notifier, queue, failures } = bot({ apiUrl: server.apiUrl });
    notifier.update(update('authorized'));
    notifier.update(update('executing'));
    await queue.idle();
    expect(server.requests.map((r) => r.status)).toEqual([201, 200]);
    expect(server.violations).toEqual([]);
    expect(failures).toEqual([]);
  });
});

/** Waits (in real time, polling) for a condition on work that runs on its own. */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
