/**
 * The Statuspage target through the stakeholder outbox, against a local Statuspage that enforces 1
 * request per second per key (429 otherwise), throws in 420s and 503s, and checks the OAuth header
 * and the JSON bodies. Time is virtual (a JumpClock shared by the outbox and the server), so the rate
 * rule is checked exactly and minutes of backoff take no real time; the tests of a page that is down
 * and comes back, and of the defaults, run on the real clock.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../../../src/lib/logging.js';
import {
  StakeholderOutbox,
  type StakeholderOutboxOptions,
} from '../../../src/notifiers/stakeholder-outbox.js';
import { StakeholderRegistry } from '../../../src/notifiers/target-registry.js';
import { createStatuspageTarget } from '../../../src/notifiers/targets/statuspage/index.js';
import {
  StatuspageClient,
  type RollbackPhase,
  type StatuspageUpdate,
} from '../../../src/notifiers/targets/statuspage/notifier.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { createRedisStore } from '../../../src/store/redis/redis-store.js';
import type { Store } from '../../../src/store/store.js';
import { startFakeStatuspage, type FakeStatuspage } from '../../support/fake-statuspage.js';
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

let replicas = 0;

/** One process's status page: its target over the API, and the outbox that sends its updates. */
function bot(options: {
  apiUrl: string;
  apiKey?: string;
  clock?: JumpClock;
  store?: Store;
  outbox?: Partial<StakeholderOutboxOptions>;
}) {
  const { log, lines } = logger();
  const clock = options.clock;
  const store = options.store ?? new MemoryStore();
  const target = createStatuspageTarget(
    { apiUrl: options.apiUrl, apiKey: options.apiKey ?? KEY_A },
    { store, log, ...(clock ? { now: clock.now } : {}) },
  )!;
  const failures: Array<{ rollbackId: string; message: string }> = [];
  replicas += 1;
  const outbox = new StakeholderOutbox({
    store,
    registry: new StakeholderRegistry().register(target),
    report: (subject, message) => failures.push({ rollbackId: subject.id, message }),
    log,
    owner: `replica-${replicas}`,
    // No poller needed: what is kept here is sent at once; `idle` waits for it.
    pollMs: 60_000,
    random: () => 1,
    ...(clock ? { now: clock.now, sleep: clock.sleep } : {}),
    ...options.outbox,
  });
  const lane = new StatuspageClient({ apiUrl: options.apiUrl, apiKey: options.apiKey ?? KEY_A, log }).laneKey;
  onTestFinished(() => outbox.stop(0));
  /** What the fan-out does with a status page update: keeps it in the key's lane. */
  const send = (update: StatuspageUpdate) =>
    outbox.keep(target, { kind: 'rollback', id: update.rollbackId }, [
      { lane, id: `${update.effectId}:statuspage`, body: update },
    ]);
  return { outbox, store, send, failures, lines, lane: `statuspage:${lane}` };
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

describe('the status page through the stakeholder outbox (local Statuspage, 1 request/s per key)', () => {
  it('lands the whole lifecycle in order with the exact bodies, through 420 and 503, never faster than 1/s', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { outbox, send, store, failures, lane } = bot({ apiUrl: server.apiUrl, clock });
    server.failNext({ status: 420 }, { status: 503, retryAfter: '3' });
    server.hold(KEY_A);

    for (const phase of LIFECYCLE) await send(update(phase));
    // A repeat of a kept update is not kept twice.
    await send(update('executing'));
    expect(await outbox.waiting(lane)).toEqual(LIFECYCLE.map((phase) => `rb-1:${phase}:statuspage`));
    server.release(KEY_A);
    await outbox.idle();

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
    expect(await outbox.waiting(lane)).toEqual([]);

    // The same effects delivered again (another worker, a reclaim) send nothing.
    for (const phase of LIFECYCLE) await send(update(phase));
    await outbox.idle();
    expect(server.requests).toHaveLength(6);
  });

  it('opens at the declaration with the plan’s outage and impact, and says a called-off rollback on it', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { outbox, send, failures } = bot({ apiUrl: server.apiUrl, clock });
    const partial = { outage: 'partial_outage' } as const;
    await send(update('declared', partial));
    await send(update('authorized', partial));
    await send(update('called-off', { ...partial, body: 'The planned rollback was called off.' }));
    await outbox.idle();
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
    const { outbox, send } = bot({ apiUrl: server.apiUrl, clock });
    await send(update('called-off'));
    await outbox.idle();
    expect(server.requests).toEqual([]);
  });

  it('lets another replica continue the incident the first one opened (the id is in Redis)', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const [one, two] = await replicaStores();
    const first = bot({ apiUrl: server.apiUrl, clock, store: one });
    const second = bot({ apiUrl: server.apiUrl, clock, store: two });
    await first.send(update('authorized'));
    await first.outbox.idle();
    // The lane remembers when its last request ended: the other replica keeps the 1 s too.
    await second.send(update('executing'));
    await second.outbox.idle();
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/pages/page-1/incidents',
      'PATCH /v1/pages/page-1/incidents/inc-1',
    ]);
    expect(server.violations).toEqual([]);
    expect(server.incidents.size).toBe(1);
    // The first effect delivered again, to the other replica: nothing is sent.
    await second.send(update('authorized'));
    await second.outbox.idle();
    expect(server.requests).toHaveLength(2);
  });

  it('two replicas: one sends the key’s lane at a time, so one incident is opened and the rate holds', async () => {
    const server = await fakeStatuspage(Date.now);
    const [one, two] = await replicaStores();
    const first = bot({ apiUrl: server.apiUrl, store: one });
    const second = bot({ apiUrl: server.apiUrl, store: two });
    server.hold(KEY_A);
    await first.send(update('authorized'));
    await until(() => server.requests.length === 1);
    // The other replica keeps its update in the same lane; the first replica holds the lane.
    await second.send(update('executing'));
    await second.outbox.idle();
    expect(server.requests).toHaveLength(1);
    server.release(KEY_A);
    await first.outbox.idle();
    expect(server.incidents.size).toBe(1);
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /v1/pages/page-1/incidents 201',
      'PATCH /v1/pages/page-1/incidents/inc-1 200',
    ]);
    expect(server.violations).toEqual([]);
    expect([...first.failures, ...second.failures]).toEqual([]);
  });

  it('keeps a failed rollback open with an update, and drops an update arriving after a later one', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { outbox, send } = bot({ apiUrl: server.apiUrl, clock });
    await send(update('authorized'));
    await send(update('validating'));
    await send(update('executing'));
    await send(update('failed', { body: 'The rollback failed at step 2' }));
    await outbox.idle();
    expect(server.requests.map((r) => r.body)).toEqual([
      expect.objectContaining({ incident: expect.objectContaining({ status: 'investigating' }) as unknown }),
      expect.objectContaining({ incident: expect.objectContaining({ status: 'monitoring' }) as unknown }),
      { incident: { status: 'monitoring', body: 'The rollback failed at step 2' } },
    ]);
    expect(server.incidents.get('inc-1')?.status).toBe('monitoring');
  });

  it('a page that is down: kept, said once in the thread, sent in order when it is back, and said so', async () => {
    const server = await fakeStatuspage(Date.now);
    const { outbox, send, failures, lane } = bot({
      apiUrl: server.apiUrl,
      outbox: { baseDelayMs: 20, maxDelayMs: 100 },
    });
    await server.down('refuse');
    // `keep` returns once the update is stored, before any connection is tried.
    for (const phase of LIFECYCLE) await send(update(phase));
    await until(() => failures.length === 1);
    expect(failures[0]!.rollbackId).toBe('rb-1');
    expect(failures[0]!.message).toMatch(
      /^The status page is not answering \(Statuspage did not answer: .*ECONNREFUSED.*\)\. Its messages are kept and will be sent, in order, when it answers again\. The rollback is not affected\.$/,
    );
    // Answered 503 for a while: still one line.
    await server.down({ status: 503 });
    await until(() => server.requests.filter((r) => r.status === 503).length >= 3);
    expect(failures).toHaveLength(1);
    expect(await outbox.waiting(lane)).toHaveLength(4);

    await server.down(null);
    await until(() => server.incidents.get('inc-1')?.status === 'resolved');
    await outbox.idle();
    expect(server.incidents.get('inc-1')!.updates.map((u) => u.status)).toEqual([
      'investigating',
      'identified',
      'monitoring',
      'resolved',
    ]);
    expect(server.requests.filter((r) => r.status === 201)).toHaveLength(1);
    expect(server.violations).toEqual([]);
    expect(failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^The status page is not answering/) as unknown,
      'The status page answers again: the messages kept for it are being sent, in order.',
    ]);
  });

  it('a refused opening is given up and said; the next phase opens the incident at its own status', async () => {
    const clock = new JumpClock();
    const server = await fakeStatuspage(clock.now);
    const { outbox, send, failures } = bot({ apiUrl: server.apiUrl, clock });
    server.failNext({ status: 422 });
    await send(update('authorized'));
    await outbox.idle();
    expect(failures.map((f) => f.message)).toEqual([
      'The status page could not post that the rollback started: Statuspage answered 422 to POST /pages/page-1/incidents: fault 422. The rollback is not affected.',
    ]);
    await send(update('executing'));
    await outbox.idle();
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
    const { outbox, send, failures, lines } = bot({ apiUrl: server.apiUrl, apiKey: 'wrong-key', clock });
    await send(update('authorized'));
    await outbox.idle();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.key).toBe('wrong-key');
    expect(failures.map((f) => f.message)).toEqual([
      'The status page could not post that the rollback started: Statuspage answered 401 to POST /pages/page-1/incidents: Could not authenticate. The rollback is not affected.',
    ]);
    expect(JSON.stringify(lines)).not.toContain('wrong-key');
  });

  it('on the real clock with the default outbox, never trips the server rate limit', async () => {
    const server = await fakeStatuspage(Date.now);
    const { outbox, send, failures } = bot({ apiUrl: server.apiUrl, outbox: { random: Math.random } });
    await send(update('authorized'));
    await send(update('executing'));
    await outbox.idle();
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
