/**
 * The stakeholder registry: a kind is registered once, a kind this process cannot tell is absent
 * (a plan naming it still tells the rest), and a target whose settings name no events hears its
 * defaults and nothing else.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { CommunicationsPolicy } from '../../../src/domain/communications.js';
import type { RollbackPlan } from '../../../src/domain/plan.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { createStakeholders } from '../../../src/notifiers/create-stakeholders.js';
import { StakeholderRegistry } from '../../../src/notifiers/target-registry.js';
import { STAKEHOLDER_EVENTS } from '../../../src/notifiers/target.js';
import { slackChannelTarget } from '../../../src/notifiers/targets/slack-channel/index.js';
import { snsTarget } from '../../../src/notifiers/targets/sns/index.js';
import { createStatuspageTarget, statuspagePhase } from '../../../src/notifiers/targets/statuspage/index.js';
import type { StakeholderNotice } from '../../../src/notifiers/target.js';
import { communicationEventOf } from '../../../src/notifiers/templates/index.js';
import type { NotifyDetail } from '../../../src/domain/rollback-types.js';
import type { RollbackView } from '../../../src/app/rollback-view.js';
import type { SnsMessage } from '../../../src/notifiers/targets/sns/publisher.js';
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
const slack = { postMessage: () => Promise.resolve({}) };
const sns = { publish: () => Promise.resolve({ messageId: 'm-1' }) };

describe('StakeholderRegistry', () => {
  it('keeps the registration order and refuses a kind registered twice', () => {
    const registry = new StakeholderRegistry().register(slackChannelTarget(slack)).register(snsTarget(sns));
    expect(registry.kinds()).toEqual(['slack', 'sns']);
    expect(() => registry.register(snsTarget(sns))).toThrow('stakeholder target "sns" is registered twice');
  });

  it('has no target of an unknown kind, nor of one left unconfigured', () => {
    const { registry } = createStakeholders({
      store: new MemoryStore(),
      view: () => Promise.resolve(view),
      planOf: () => plan,
      communicationsOf: () => undefined,
      slack,
      // A status page without an API key is not reachable: not registered.
      statuspage: { apiUrl: 'http://127.0.0.1:9/v1' },
      report: () => undefined,
      log: silentLogger,
    });
    expect(registry.kinds()).toEqual(['slack']);
    expect(registry.get('pagerduty')).toBeUndefined();
    expect(registry.get('sns')).toBeUndefined();
    expect(registry.get('statuspage')).toBeUndefined();
  });

  it('gives the channels and SNS the seeds’ events by default', () => {
    expect(slackChannelTarget(slack).defaultEvents).toEqual(STAKEHOLDER_EVENTS);
    expect(snsTarget(sns).defaultEvents).toEqual(STAKEHOLDER_EVENTS);
    expect(STAKEHOLDER_EVENTS).toEqual([
      'incident-opened',
      'rollback-declared',
      'authorized',
      'resolved',
      'failed',
      'called-off',
    ]);
  });
});

describe('the fan-out over the registry', () => {
  const effect = (id: string, payload: Record<string, unknown>): OutboxEffect => ({
    id: `${view.id}:${id}`,
    rollbackId: view.id,
    version: 1,
    kind: 'notify',
    payload: { at: T0, by: view.declaredBy, ...payload },
    createdAt: T0,
  });
  function fanOut(policy: CommunicationsPolicy) {
    const posts: string[] = [];
    const published: SnsMessage[] = [];
    const reports: string[] = [];
    const { notify, outbox } = createStakeholders({
      store: new MemoryStore(),
      view: () => Promise.resolve(view),
      planOf: () => plan,
      communicationsOf: () => policy,
      slack: {
        postMessage: ({ channel }) => {
          posts.push(channel);
          return Promise.resolve({});
        },
      },
      sns: {
        publish: (message) => {
          published.push(message);
          return Promise.resolve({ messageId: `m-${published.length}` });
        },
      },
      report: (_id, message) => reports.push(message),
      log: silentLogger,
      outbox: { pollMs: 60_000 },
    });
    onTestFinished(() => outbox.stop(0));
    return { notify, posts, published, reports, settled: () => outbox.idle() };
  }

  it('tells a target naming no events its defaults only', async () => {
    const { notify, posts, published, settled } = fanOut({
      name: 'stakeholders',
      targets: { slack: { channels: ['C0STAKE'] }, sns: { topicArn: TOPIC } },
      templates: {},
      updateEveryMs: 5 * 60_000,
    });
    await notify(effect('1:0', { event: 'step-started', stepIndex: 0, attempt: 1 }));
    await settled();
    expect(posts).toEqual([]);
    expect(published).toEqual([]);

    await notify(effect('2:0', { event: 'authorized', via: 'approval' }));
    await settled();
    expect(posts).toEqual(['C0STAKE']);
    expect(published.map((message) => message.attributes.event)).toEqual(['authorized']);
  });

  it('tells a target the events its settings name, and only those', async () => {
    const { notify, posts, published, settled } = fanOut({
      name: 'stakeholders',
      targets: {
        slack: { channels: ['C0STAKE'], events: ['step-started'] },
        sns: { topicArn: TOPIC },
      },
      templates: {},
      updateEveryMs: 5 * 60_000,
    });
    await notify(effect('1:0', { event: 'step-started', stepIndex: 0, attempt: 1 }));
    await notify(effect('2:0', { event: 'authorized', via: 'approval' }));
    await settled();
    expect(posts).toEqual(['C0STAKE']);
    expect(published.map((message) => message.attributes.event)).toEqual(['authorized']);
  });

  it('tells the registered targets when the plan also names one this process cannot reach', async () => {
    const { notify, posts, published, reports, settled } = fanOut({
      name: 'stakeholders',
      targets: {
        slack: { channels: ['C0STAKE'] },
        sns: { topicArn: TOPIC },
        statuspage: { pageId: 'page-1', componentIds: ['cmp-api'] },
      },
      templates: {},
      updateEveryMs: 5 * 60_000,
    });
    await notify(effect('1:0', { event: 'authorized', via: 'approval' }));
    await settled();
    expect(posts).toEqual(['C0STAKE']);
    expect(published).toHaveLength(1);
    expect(reports).toEqual([]);
  });
});

describe('the status page target', () => {
  // `hears` and `settingsOf` never reach Statuspage.
  const target = createStatuspageTarget(
    { apiUrl: 'http://127.0.0.1:9/v1', apiKey: 'key-0123456789' },
    { store: new MemoryStore(), log: silentLogger },
  )!;
  const page = { pageId: 'page-1', componentIds: ['cmp-api'] };
  const notice = (detail: NotifyDetail, rollback: RollbackView | null = view): StakeholderNotice => ({
    effectId: 'e-1',
    detail,
    event: communicationEventOf(detail),
    at: T0,
    subject: { kind: 'rollback', id: view.id, service: view.service, environment: view.environment },
    rollback,
  });

  it('opens at a human’s declaration (with the incident-opened text), an automatic one at authorisation', () => {
    const settings = target.settingsOf({ ...plan, communications: { statuspage: page } }, undefined)!;
    expect(settings).toMatchObject({ pageId: 'page-1', outage: 'partial_outage' });
    expect(target.hears(notice({ event: 'declared', autoStartAt: null }), settings)).toBe('incident-opened');
    expect(target.hears(notice({ event: 'declared', autoStartAt: T0 + 60_000 }), settings)).toBeNull();
    expect(target.hears(notice({ event: 'authorized', via: 'policy' }), settings)).toBe('authorized');
    expect(target.hears(notice({ event: 'rejected', reason: 'no' }), settings)).toBe('called-off');
    // incident-opened at the alert is no phase of a rollback: the page opens when one is declared.
    expect(
      target.hears({ ...notice({ event: 'declared', autoStartAt: null }), detail: null }, settings),
    ).toBeNull();
  });

  it('takes the plan’s component status over its criticality’s', () => {
    const critical = { ...plan, criticality: 'critical' as const, communications: { statuspage: page } };
    expect(target.settingsOf(critical, undefined)?.outage).toBe('major_outage');
    const overridden = {
      ...critical,
      communications: { statuspage: { ...page, componentStatus: 'degraded_performance' as const } },
    };
    expect(target.settingsOf(overridden, undefined)?.outage).toBe('degraded_performance');
    expect(statuspagePhase({ event: 'expired', reason: 'approval expired' }, 2)).toBe('called-off');
  });

  it('with events named, incident-opened stands for the opening: at the declaration or authorisation', () => {
    const settings = { ...page, outage: 'partial_outage' as const, events: ['incident-opened', 'resolved'] };
    expect(target.hears(notice({ event: 'declared', autoStartAt: null }), settings)).toBe('incident-opened');
    expect(target.hears(notice({ event: 'authorized', via: 'approval' }), settings)).toBe('authorized');
    expect(target.hears(notice({ event: 'step-started', stepIndex: 0, attempt: 1 }), settings)).toBeNull();
    const older = { ...settings, events: ['authorized', 'resolved'] };
    expect(target.hears(notice({ event: 'declared', autoStartAt: null }), older)).toBeNull();
  });
});
