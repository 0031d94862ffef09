/**
 * The stakeholder fan-out over the in-memory store: every target (each channel, SNS, the status
 * page) is told once per effect however often the effect is delivered, a publish that fails for a
 * while is sent when it passes, one refused for good is given up and said, and the lines reporting
 * failures in the thread keep their channel mention while foreign text in them stays text.
 */
import { WebAPIPlatformError } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommunicationsPolicy } from '../../../src/domain/communications.js';
import type { RollbackPlan } from '../../../src/domain/plan.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { createStakeholders, type OutboxTuning } from '../../../src/notifiers/create-stakeholders.js';
import type { StakeholderOutbox } from '../../../src/notifiers/stakeholder-outbox.js';
import type { IncidentOpenedNotifier } from '../../../src/notifiers/stakeholders.js';
import type { RollbackView } from '../../../src/app/rollback-view.js';
import type { Incident } from '../../../src/domain/incident.js';
import { SnsPublishError, type SnsMessage } from '../../../src/notifiers/targets/sns/publisher.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import type { OutboxEffect } from '../../../src/store/store.js';
import { standardStrategy, T0 } from '../../support/domain-fixtures.js';
import { baseView } from '../../support/view-fixtures.js';

const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:stakeholders';
// Declared in an incident an alert opened: its declaration is not the incident's opening.
const view = baseView({ incidentId: 'inc-1' });
const unopened = baseView();
const plan: RollbackPlan = {
  name: view.service,
  service: view.service,
  channel: 'C0INCIDENTS',
  environments: ['production'],
  criticality: 'high',
  rtoMs: 15 * 60_000,
  authority: 'default',
  defaultStrategy: 'blue-green',
  strategies: { 'blue-green': standardStrategy() },
  triggers: [],
  limitations: [],
  communications: { use: 'stakeholders' },
};
const policy: CommunicationsPolicy = {
  name: 'stakeholders',
  targets: { slack: { channels: ['C0STAKE'] }, sns: { topicArn: TOPIC } },
  templates: {},
  updateEveryMs: 5 * 60_000,
};
const effect: OutboxEffect = {
  id: `${view.id}:1:0`,
  rollbackId: view.id,
  version: 1,
  kind: 'notify',
  payload: { event: 'declared', autoStartAt: null, at: T0, by: view.declaredBy },
  createdAt: T0,
};

let store: MemoryStore;
let published: SnsMessage[];
let snsFails: { message: string; retryable: boolean } | null;
let slackFails: boolean;
let outbox: StakeholderOutbox;
let reports: string[];
let notify: (effect: OutboxEffect) => Promise<void>;
let incidentOpened: IncidentOpenedNotifier;
let shown: RollbackView;
/** Quick retries, and no poller: what is kept is sent at once and `idle` waits for it. */
const FAST: OutboxTuning = { baseDelayMs: 5, maxDelayMs: 20, pollMs: 60_000 };
const outboxes: StakeholderOutbox[] = [];
afterEach(async () => {
  await Promise.all(outboxes.splice(0).map((o) => o.stop(0)));
});

beforeEach(() => {
  shown = view;
  store = new MemoryStore();
  published = [];
  snsFails = null;
  slackFails = false;
  reports = [];
  ({ notify, incidentOpened, outbox } = createStakeholders({
    store,
    view: () => Promise.resolve(shown),
    versionsOf: () => Promise.resolve({ from: 'v1.5.0', to: 'v1.4.1' }),
    planOf: () => plan,
    communicationsOf: () => policy,
    slack: {
      postMessage: () =>
        slackFails
          ? Promise.reject(new WebAPIPlatformError({ ok: false, error: 'not_in_channel <!channel>' }))
          : Promise.resolve({}),
    },
    sns: {
      publish(message) {
        if (snsFails !== null) {
          return Promise.reject(
            new SnsPublishError({
              topicArn: TOPIC,
              userMessage: snsFails.message,
              retryable: snsFails.retryable,
            }),
          );
        }
        published.push(message);
        return Promise.resolve({ messageId: `m-${published.length}` });
      },
    },
    report: (_id, message) => reports.push(message),
    log: silentLogger,
    outbox: FAST,
  }));
  outboxes.push(outbox);
});

/** The outbox sends in the background: wait until it has sent (or given up) all it kept. */
const settled = () => outbox.idle();

describe('SNS stakeholders', () => {
  it('publish once per effect, however often it is delivered', async () => {
    await notify(effect);
    await Promise.all([notify(effect), notify(effect)]);
    await settled();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ topicArn: TOPIC, dedupeKey: effect.id });
    await notify({ ...effect, id: `${view.id}:2:0` });
    await settled();
    expect(published).toHaveLength(2);
  });

  it('a publish refused for good is given up and said, escaped; a redelivery does not try it again', async () => {
    snsFails = { message: 'refused <!here>', retryable: false };
    await notify(effect);
    await settled();
    expect(published).toHaveLength(0);
    expect(reports).toEqual(['SNS stakeholders were not told (rollback-declared): refused &lt;!here&gt;']);
    snsFails = null;
    await notify(effect);
    await settled();
    expect(published).toHaveLength(0);
  });

  it('a publish that fails for a while is kept, its outage said once, and sent when it passes', async () => {
    snsFails = { message: 'throttled <!here>', retryable: true };
    await notify(effect);
    await notify({
      ...effect,
      id: `${view.id}:2:0`,
      payload: { event: 'authorized', via: 'approval', at: T0 },
    });
    await until(() => reports.length > 0);
    expect(published).toHaveLength(0);
    expect(reports).toEqual([
      'SNS (topic stakeholders) is not answering (throttled &lt;!here&gt;). Its messages are kept and will be sent, in order, when it answers again. The rollback is not affected.',
    ]);
    snsFails = null;
    await settled();
    expect(published.map((m) => m.attributes.event)).toEqual(['rollback-declared', 'authorized']);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toBe(
      'SNS (topic stakeholders) answers again: the messages kept for it are being sent, in order.',
    );
  });
});

describe('reports of a stakeholder channel not told', () => {
  it('mention the channel and nothing foreign', async () => {
    slackFails = true;
    await notify(effect);
    await settled();
    expect(reports).toEqual([
      'The stakeholder channel <#C0STAKE> could not be told (rollback-declared): Slack answered not_in_channel &lt;!channel&gt;.',
    ]);
  });
});

describe('a redelivered effect', () => {
  it('reaches each channel, SNS and the status page once', async () => {
    const posts: string[] = [];
    const calls: string[] = [];
    const statuspageFetch: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : input.toString();
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      return Promise.resolve(Response.json({ id: 'inc-1', status: 'investigating' }));
    };
    const {
      notify: deliver,
      registry,
      outbox: sender,
    } = createStakeholders({
      store,
      view: () => Promise.resolve(view),
      planOf: () => plan,
      communicationsOf: () => ({
        ...policy,
        targets: {
          slack: { channels: ['C0STAKE', 'C0EXEC'] },
          sns: { topicArn: TOPIC },
          statuspage: { pageId: 'page-1', componentIds: ['cmp-api'] },
        },
      }),
      slack: {
        postMessage: ({ channel }) => {
          posts.push(channel);
          return Promise.resolve({});
        },
      },
      sns: {
        publish(message) {
          published.push(message);
          return Promise.resolve({ messageId: `m-${published.length}` });
        },
      },
      statuspage: { apiUrl: 'https://statuspage.test/v1', apiKey: 'key-0123456789', fetch: statuspageFetch },
      report: (_id, message) => reports.push(message),
      log: silentLogger,
      outbox: FAST,
    });
    outboxes.push(sender);
    expect(registry.kinds()).toEqual(['slack', 'sns', 'statuspage']);
    expect(registry.get('statuspage')?.defaultEvents).toEqual([
      'incident-opened',
      'authorized',
      'step-started',
      'validation-passed',
      'resolved',
      'failed',
      'called-off',
    ]);
    const authorized: OutboxEffect = { ...effect, payload: { event: 'authorized', via: 'approval', at: T0 } };

    await deliver(authorized);
    await Promise.all([deliver(authorized), deliver(authorized)]);
    await sender.idle();
    // Once everything is sent, the outbox still knows the effect.
    await deliver(authorized);
    await sender.idle();

    expect(posts.sort()).toEqual(['C0EXEC', 'C0STAKE']);
    expect(published).toHaveLength(1);
    expect(calls).toEqual(['POST https://statuspage.test/v1/pages/page-1/incidents']);
    expect(reports).toEqual([]);
  });
});

describe('incident-opened', () => {
  const incident: Incident = {
    id: 'inc-7',
    service: view.service,
    environment: 'production',
    startedAt: T0,
    openedAt: T0 + 60_000,
    closedAt: null,
    alerts: [
      {
        fingerprint: 'f1',
        status: 'firing',
        name: 'HighErrorRate',
        summary: '5xx above 5%',
        source: 'alertmanager',
        startsAt: T0,
        endsAt: null,
        url: null,
      },
    ],
    overflow: 0,
    unannounced: { firing: [], resolved: [] },
    rollbackIds: [],
    trigger: null,
    deliveries: 1,
    severity: 'page',
  };

  it('at the alert: told once per incident, however often and wherever it is called', async () => {
    await incidentOpened(incident, incident.openedAt);
    await Promise.all([incidentOpened(incident, incident.openedAt), incidentOpened(incident, T0 + 99)]);
    await settled();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      topicArn: TOPIC,
      subject: '[INCIDENT] [PAGE] [user-service] Incident in production',
      attributes: {
        event: 'incident-opened',
        service: 'user-service',
        environment: 'production',
        incidentId: 'inc-7',
      },
      dedupeKey: 'incident-opened:inc-7',
      groupKey: 'inc-7',
    });
    expect(published[0]!.message).toContain('Severity: PAGE');
    expect(published[0]!.message).toContain('Issue: HighErrorRate: 5xx above 5%');
    expect(published[0]!.message).toContain('ETA: 2026-11-23 06:16:00 UTC (RTO 15m)');
    expect(published[0]!.message).toContain(
      'Action: Rollback to the previous stable version (v1.4.1) proposed',
    );
    await incidentOpened({ ...incident, id: 'inc-8' }, incident.openedAt);
    await settled();
    expect(published).toHaveLength(2);
  });

  it('is left out when the Communications events leave it out', async () => {
    const { incidentOpened: tell, outbox: sender } = createStakeholders({
      store,
      view: () => Promise.resolve(view),
      planOf: () => plan,
      communicationsOf: () => ({
        ...policy,
        targets: { sns: { topicArn: TOPIC, events: ['rollback-declared', 'resolved'] } },
      }),
      slack: { postMessage: () => Promise.resolve({}) },
      sns: {
        publish(message) {
          published.push(message);
          return Promise.resolve({ messageId: 'm' });
        },
      },
      report: () => undefined,
      log: silentLogger,
      outbox: FAST,
    });
    outboxes.push(sender);
    await tell(incident, incident.openedAt);
    await sender.idle();
    expect(published).toEqual([]);
  });

  it('a declaration with no incident open is the opening: incident-opened first, then rollback-declared, once', async () => {
    shown = unopened;
    await notify(effect);
    await Promise.all([notify(effect), notify(effect)]);
    await settled();
    expect(published.map((m) => [m.attributes.event, m.dedupeKey])).toEqual([
      ['incident-opened', `incident-opened:${unopened.id}`],
      ['rollback-declared', effect.id],
    ]);
    expect(published[0]!.attributes).toMatchObject({ rollbackId: unopened.id });
    expect(published[0]!.message).toContain('Severity: HIGH');
    // Later notices of the rollback are not openings.
    await notify({
      ...effect,
      id: `${view.id}:2:0`,
      payload: { event: 'authorized', via: 'approval', at: T0 },
    });
    await settled();
    expect(published.map((m) => m.attributes.event)).toEqual([
      'incident-opened',
      'rollback-declared',
      'authorized',
    ]);
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
