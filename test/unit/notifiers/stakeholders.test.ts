/**
 * The stakeholder fan-out over the in-memory store: every target (each channel, SNS, the status
 * page) is told once per effect however often the effect is delivered, a failed SNS publish may be
 * tried again, and the lines reporting failures in the thread keep their channel mention while
 * foreign text in them stays text.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { CommunicationsPolicy } from '../../../src/domain/communications.js';
import type { RollbackPlan } from '../../../src/domain/plan.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { createStakeholders } from '../../../src/notifiers/create-stakeholders.js';
import { SnsPublishError, type SnsMessage } from '../../../src/notifiers/targets/sns/publisher.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import type { OutboxEffect } from '../../../src/store/store.js';
import { standardStrategy, T0 } from '../../support/domain-fixtures.js';
import { baseView } from '../../support/view-fixtures.js';

const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:stakeholders';
const view = baseView();
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
let snsFails: string | null;
let slackFails: boolean;
let reports: string[];
let notify: (effect: OutboxEffect) => Promise<void>;
beforeEach(() => {
  store = new MemoryStore();
  published = [];
  snsFails = null;
  slackFails = false;
  reports = [];
  ({ notify } = createStakeholders({
    store,
    view: () => Promise.resolve(view),
    planOf: () => plan,
    communicationsOf: () => policy,
    slack: {
      postMessage: () =>
        slackFails ? Promise.reject(new Error('<!channel> not_in_channel')) : Promise.resolve({}),
    },
    sns: {
      publish(message) {
        if (snsFails !== null) {
          return Promise.reject(
            new SnsPublishError({ topicArn: TOPIC, userMessage: snsFails, retryable: false }),
          );
        }
        published.push(message);
        return Promise.resolve({ messageId: `m-${published.length}` });
      },
    },
    report: (_id, message) => reports.push(message),
    log: silentLogger,
  }));
});

/** The publishes and reports are fire-and-forget; the fakes settle in microtasks, done before a timer. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

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

  it('are tried again on a redelivery after a failed publish, which is reported escaped', async () => {
    snsFails = 'throttled <!here>';
    await notify(effect);
    await settled();
    expect(published).toHaveLength(0);
    expect(reports).toEqual(['SNS stakeholders were not told (rollback-declared): throttled &lt;!here&gt;']);
    snsFails = null;
    await notify(effect);
    await settled();
    expect(published).toHaveLength(1);
  });
});

describe('reports of a stakeholder channel not told', () => {
  it('mention the channel and nothing foreign', async () => {
    slackFails = true;
    await notify(effect);
    await settled();
    expect(reports).toEqual(['The stakeholder channel <#C0STAKE> could not be told (rollback-declared).']);
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
      queue,
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
    });
    expect(registry.kinds()).toEqual(['slack', 'sns', 'statuspage']);
    expect(registry.get('statuspage')?.defaultEvents).toEqual([
      'authorized',
      'step-started',
      'validation-passed',
      'resolved',
      'failed',
    ]);
    const authorized: OutboxEffect = { ...effect, payload: { event: 'authorized', via: 'approval', at: T0 } };

    await deliver(authorized);
    await Promise.all([deliver(authorized), deliver(authorized)]);
    await settled();
    await queue.idle();
    // Once the status page call is finished, its incident document still knows the effect.
    await deliver(authorized);
    await settled();
    await queue.idle();

    expect(posts.sort()).toEqual(['C0EXEC', 'C0STAKE']);
    expect(published).toHaveLength(1);
    expect(calls).toEqual(['POST https://statuspage.test/v1/pages/page-1/incidents']);
    expect(reports).toEqual([]);
  });
});
