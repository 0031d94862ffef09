/**
 * The post-mortem draft follows the final notice once per rollback, however often the notice is
 * delivered (effects come at least once), and only for rollbacks that ran.
 */
import { describe, expect, it } from 'vitest';
import { RollbackReads } from '../../../src/app/rollback-reads.js';
import { persist } from '../../../src/domain/rollback-machine.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { CardPublisher } from '../../../src/slack/card-publisher.js';
import { slackNotifyHandler } from '../../../src/slack/notify-handler.js';
import { MemoryStore } from '../../../src/store/index.js';
import type { OutboxEffect, StoredRollback } from '../../../src/store/store.js';
import type { RollbackView } from '../../../src/app/rollback-view.js';
import { MINUTE, T0, USERS, at, rollbackInput, standardPolicy } from '../../support/domain-fixtures.js';
import { baseView } from '../../support/view-fixtures.js';
import { RecordingDriver, resolvedJourney } from '../../support/record-fixtures.js';
import { ev } from '../../support/rollback-driver.js';

async function setUp(run: RecordingDriver) {
  const store = new MemoryStore();
  const ctx = run.ctx;
  // One commit per audit entry, as the engine writes them (the store checks the versions).
  for (const [i, entry] of run.audit.entries()) {
    await store.commit({
      rollback: {
        id: ctx.id,
        service: ctx.service,
        environment: ctx.environment,
        version: i + 1,
        state: entry.state,
        final: i === run.audit.length - 1 && ctx.outcome !== null,
        snapshot: persist(run.snapshot),
        createdAt: ctx.declaredAt,
        updatedAt: entry.at,
      },
      expectedVersion: i,
      audit: [{ ...entry, version: i + 1 }],
      effects: [],
      timers: [],
    });
  }
  const posted: Array<{ text: string; thread_ts?: string }> = [];
  const client = {
    chat: {
      postMessage(args: { channel: string; text: string; thread_ts?: string }) {
        posted.push(args);
        return Promise.resolve({ ts: `1.${posted.length}`, channel: args.channel });
      },
      update: () => Promise.resolve({}),
    },
  };
  const reads = new RollbackReads({ store, now: () => T0 + 60 * MINUTE });
  const cards = new CardPublisher({
    client,
    store,
    log: silentLogger,
    draw: () => Promise.resolve({ channel: 'C1', message: { text: 'card' } }),
  });
  const handler = slackNotifyHandler({
    store,
    reads,
    cards,
    showCard: (id) => cards.refresh(id),
    groupMembers: () => Promise.resolve(null),
  });
  const deliver = (id: string, event: string) => {
    const effect: OutboxEffect = {
      id,
      rollbackId: ctx.id,
      version: 1,
      kind: 'notify',
      payload: { event, reason: ctx.outcome?.reason ?? '', at: ctx.lastEventAt, by: 'system' },
      createdAt: ctx.lastEventAt,
    };
    return handler(effect, {
      signal: new AbortController().signal,
      deliveries: 1,
      keepAlive: () => Promise.resolve(),
    });
  };
  const postMortems = () => posted.filter((p) => p.text.startsWith('Post-mortem draft'));
  return { deliver, posted, postMortems };
}

describe('post-mortem posting', () => {
  it('posts the draft once after the final notice, even when the notice is delivered again', async () => {
    const { deliver, posted, postMortems } = await setUp(resolvedJourney());
    await deliver('rb-1:15:2', 'resolved');
    await deliver('rb-1:15:2', 'resolved');
    await Promise.all([deliver('rb-1:15:2', 'resolved'), deliver('rb-1:15:2', 'resolved')]);
    expect(postMortems()).toHaveLength(1);
    const thread = posted.filter((p) => p.thread_ts !== undefined).map((p) => p.text);
    expect(thread[0]).toContain('ROLLBACK COMPLETE');
    expect(thread[1]).toMatch(/^Post-mortem draft: 2026-11-23 production rollback of checkout, resolved/);
  });

  it('posts none for a rollback that never ran', async () => {
    const run = new RecordingDriver(rollbackInput());
    run.send(ev.cancel(at(MINUTE)));
    const { deliver, postMortems } = await setUp(run);
    await deliver('rb-1:2:0', 'cancelled');
    expect(postMortems()).toHaveLength(0);
  });
});

/** The rollback's own policy: its on-call and team-lead roles page user groups. */
const ROLLBACK_POLICY = standardPolicy({
  roles: [
    { name: 'on-call-engineer', members: { usergroup: 'S0ONCALL', users: [] } },
    { name: 'team-lead', members: { usergroup: 'S0LEADS', users: [] } },
    ...standardPolicy().roles.slice(2),
  ],
});
const tier = { index: 1, approver: 'on-call-engineer', notify: 'team-lead', since: T0, until: null };
const approvals = { count: 0, required: 1 };

/**
 * One notice through the handler, for a rollback under `ROLLBACK_POLICY` drawn as `view`;
 * `groups` is what Slack reports for each user group (default: someone is in each).
 */
async function deliverNotice(
  view: RollbackView,
  payload: Record<string, unknown>,
  options: { groups?: Record<string, string[]>; customText?: string } = {},
) {
  const store = new MemoryStore();
  const posted: Array<{ text: string; blocks?: unknown; thread_ts?: string }> = [];
  const client = {
    chat: {
      postMessage(args: { channel: string; text: string; thread_ts?: string }) {
        posted.push(args);
        return Promise.resolve({ ts: `1.${posted.length}`, channel: args.channel });
      },
      update: () => Promise.resolve({}),
    },
  };
  const cards = new CardPublisher({
    client,
    store,
    log: silentLogger,
    draw: () => Promise.resolve({ channel: 'C1', message: { text: 'card' } }),
  });
  const handler = slackNotifyHandler({
    store,
    // The record gives the policy copied into the rollback; the view is the one drawn from it.
    reads: {
      record: () =>
        Promise.resolve({
          rollback: {
            snapshot: persist(new RecordingDriver(rollbackInput({ policy: ROLLBACK_POLICY })).snapshot),
          } as StoredRollback,
          audit: [],
        }),
      viewOf: () => view,
    },
    cards,
    showCard: () => Promise.resolve(),
    groupMembers: (group) => Promise.resolve(options.groups?.[group] ?? [USERS.oncall]),
    ...(options.customText === undefined ? {} : { customText: () => options.customText! }),
  });
  const effect: OutboxEffect = {
    id: 'e-1',
    rollbackId: view.id,
    version: 1,
    kind: 'notify',
    payload,
    createdAt: T0,
  };
  await handler(effect, {
    signal: new AbortController().signal,
    deliveries: 1,
    keepAlive: () => Promise.resolve(),
  });
  const reply = posted.find((p) => p.thread_ts !== undefined)!;
  return { text: reply.text, blocks: JSON.stringify(reply.blocks) };
}

describe("paging from the rollback's own policy", () => {
  it('mentions the user groups of the policy copied into the rollback', async () => {
    const { text } = await deliverNotice(baseView(), { event: 'escalated', tier });
    expect(text).toContain('<!subteam^S0ONCALL> (on-call-engineer) or above may approve');
    expect(text).toContain('FYI <!subteam^S0LEADS> (team-lead)');
  });

  it('pages the next role up when Slack reports the user groups empty, and says so', async () => {
    const { text } = await deliverNotice(
      baseView(),
      { event: 'reminder', tier, approvals, expiresAt: T0 + 30 * MINUTE },
      { groups: { S0ONCALL: [], S0LEADS: [] } },
    );
    expect(text).toContain('*on-call-engineer* or above may approve');
    expect(text).toContain(
      '⚠️ Nobody holds *on-call-engineer* or *team-lead*: paging <@U0EM1> (engineering-manager).',
    );
    expect(text).not.toContain('subteam');
  });
});

describe("a plan's template for a notice", () => {
  const deliver = (view: RollbackView, payload: Record<string, unknown>) =>
    deliverNotice(view, payload, { customText: 'Custom words from the plan' });

  // The default reminder pages the approvers only; the other two also tell the notify role.
  const ONCALL = '<!subteam^S0ONCALL>';
  const LEADS = '<!subteam^S0LEADS>';
  it.each([
    {
      pages: [ONCALL, LEADS],
      payload: { event: 'approval-requested', tier, approvals, expiresAt: T0 + 30 * MINUTE },
    },
    { pages: [ONCALL, LEADS], payload: { event: 'escalated', tier } },
    { pages: [ONCALL], payload: { event: 'reminder', tier, approvals, expiresAt: T0 + 30 * MINUTE } },
  ])('keeps the page of $payload.event after the custom text', async ({ pages, payload }) => {
    const { text, blocks } = await deliver(baseView(), payload);
    expect(text).toMatch(/^Custom words from the plan\n/);
    for (const out of [text, blocks]) for (const page of pages) expect(out).toContain(page);
    expect(blocks.indexOf('Custom words')).toBeLessThan(blocks.indexOf('<!subteam^S0ONCALL>'));
  });

  it('replaces the default text of other notices, and labels a drill', async () => {
    const live = await deliver(baseView(), { event: 'authorized', via: 'approvals' });
    expect(live.text).toBe('Custom words from the plan');
    expect(live.blocks).not.toContain('Authorized');
    const drill = await deliver(baseView({ drill: true, environment: 'staging' }), {
      event: 'authorized',
      via: 'approvals',
    });
    expect(drill.text).toBe('🧪 *DRILL* Custom words from the plan');
  });
});
