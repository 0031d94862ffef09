/**
 * The status card has one writer: commits made here redraw it from the committed record, and a
 * delivered notice redraws it only when the card does not show the notice's version yet (after a
 * crash, on another replica, or after Slack refused the last update). A rollback declared in an
 * incident has no message of its own: its card is drawn on the incident's message, by that
 * message's one writer, and its replies go into the incident's thread.
 */
import { describe, expect, it } from 'vitest';
import { IncidentRecords } from '../../../src/app/incident-records.js';
import { RollbackReads } from '../../../src/app/rollback-reads.js';
import type { Catalog } from '../../../src/app/rollback-service.js';
import type { Incident } from '../../../src/domain/incident.js';
import type { RollbackInput } from '../../../src/domain/rollback-types.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollbackDecider } from '../../../src/engine/rollback-decider.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { IncidentThreads } from '../../../src/slack/incident-thread.js';
import { CardDrawer } from '../../../src/slack/card-drawer.js';
import { RollbackCards } from '../../../src/slack/rollback-cards.js';
import { COLLECTIONS } from '../../../src/store/collections.js';
import { MemoryStore } from '../../../src/store/index.js';
import { MINUTE, ROLES, T0, USERS, rollbackInput } from '../../support/domain-fixtures.js';

interface Posted {
  channel: string;
  ts: string;
  text: string;
  thread_ts?: string;
}

/**
 * One replica; `shared` gives a second one the first's store and Slack. `groups`: user group ->
 * members as Slack reports them (default: everyone's group has someone).
 */
function setup(shared?: { store: MemoryStore; posted: Posted[] }, groups: Record<string, string[]> = {}) {
  const store = shared?.store ?? new MemoryStore();
  const updates: string[] = [];
  const updated: Array<{ ts: string; text: string; blocks?: unknown }> = [];
  const posted: Posted[] = shared?.posted ?? [];
  let refuseUpdates = false;
  const client = {
    chat: {
      postMessage: async (args: { channel: string; text: string; thread_ts?: string }) => {
        // Slack takes a moment: long enough for the replicas' posts to overlap.
        await new Promise((resolve) => setTimeout(resolve, 5));
        const ts = `1.${String(posted.length + 1).padStart(6, '0')}`;
        posted.push({ ...args, ts });
        return { ts, channel: args.channel };
      },
      update: (args: { ts: string; text: string; blocks?: unknown }) => {
        if (refuseUpdates) return Promise.reject(new Error('ratelimited'));
        updates.push(args.text);
        updated.push(args);
        return Promise.resolve({});
      },
    },
  };
  const reads = new RollbackReads({ store, now: () => T0 + MINUTE });
  const catalog: Catalog = { plans: new Map(), policies: new Map() };
  const records = new IncidentRecords(store);
  const drawer = new CardDrawer({
    reads,
    catalog: () => catalog,
    groupMembers: (group) => Promise.resolve(groups[group] ?? [USERS.oncall]),
    now: () => T0,
  });
  const threads = new IncidentThreads({
    client,
    store,
    incidents: records,
    channelOf: () => 'C0INCIDENTS',
    rollback: (id) => reads.brief(id),
    cards: drawer.inIncident,
    deployments: () => Promise.resolve([]),
    now: () => T0,
    log: silentLogger,
  });
  const cards = new RollbackCards({
    client,
    store,
    reads,
    drawer,
    incidentMessages: threads,
    log: silentLogger,
  });
  records.onChange((id) => {
    threads.announce(id);
  });
  const engine = new Engine<RollbackInput>({ store, decider: rollbackDecider, log: silentLogger });
  engine.onCommitted(reads.committed);
  engine.onCommitted(cards.committed);
  return {
    store,
    engine,
    cards,
    drawer,
    threads,
    records,
    updates,
    updated,
    posted,
    settled: async () => {
      await cards.settled();
      await threads.settled();
    },
    refuse: (refused: boolean) => {
      refuseUpdates = refused;
    },
  };
}

const INCIDENT: Incident = {
  id: 'inc-1',
  service: 'checkout',
  environment: 'production',
  startedAt: T0,
  openedAt: T0,
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
};

const identity = { id: 'rb-1', service: 'checkout', environment: 'production' };

describe('RollbackCards', () => {
  it('redraws on a commit, and a notice of a version already shown changes nothing', async () => {
    const h = setup();
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await h.settled();
    await h.engine.dispatch('rb-1', {
      type: 'APPROVE',
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: T0 + MINUTE,
    });
    await h.settled();
    const drawn = h.updates.length;
    expect(drawn).toBeGreaterThan(0);
    await h.cards.shows('rb-1', 2);
    expect(h.updates).toHaveLength(drawn);
    // No incident: the card is a message of its own.
    expect(h.posted.filter((p) => p.thread_ts === undefined).map((p) => p.text)).toEqual([
      expect.stringMatching(/Rollback of checkout/) as string,
    ]);
  });

  it('a notice redraws a card Slack refused to update', async () => {
    const h = setup();
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await h.settled();
    h.refuse(true);
    await h.engine.dispatch('rb-1', {
      type: 'APPROVE',
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: T0 + MINUTE,
    });
    await h.settled();
    h.refuse(false);
    const before = h.updates.length;
    await h.cards.shows('rb-1', 2);
    expect(h.updates.length).toBe(before + 1);
  });

  it('draws a rollback declared in an incident on the incident message and replies in its thread', async () => {
    const h = setup();
    await h.store.putDoc(COLLECTIONS.incidents, INCIDENT.id, INCIDENT, 0);
    await h.engine.declare(identity, rollbackInput({ incidentId: INCIDENT.id }), T0, USERS.declarer);
    await h.records.join(INCIDENT.id, 'rb-1');
    await h.settled();
    await h.cards.reply('rb-1', { text: 'declared' });
    await h.engine.dispatch('rb-1', {
      type: 'APPROVE',
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: T0 + MINUTE,
    });
    await h.settled();

    const tops = h.posted.filter((p) => p.thread_ts === undefined);
    expect(tops).toHaveLength(1);
    expect(tops[0]!.text).toMatch(/^Incident: checkout \(production\)/);
    const replies = h.posted.filter((p) => p.thread_ts !== undefined);
    expect(replies.map((p) => p.thread_ts)).toEqual(replies.map(() => tops[0]!.ts));
    expect(replies.map((p) => p.text)).toContain('declared');
    // Its card is on the incident's message: no "its card and thread carry the details" pointer.
    expect(replies.map((p) => p.text)).not.toContain('Rollback rb-1 declared');
    const last = h.updated.at(-1)!;
    expect(last.ts).toBe(tops[0]!.ts);
    expect(JSON.stringify(last.blocks)).toContain('Rollback: checkout (production)');
    expect(JSON.stringify(last.blocks)).toContain('rollback:abort');
    expect(await h.cards.publisher.address('rb-1')).toBeNull();
    // The notice bookkeeping holds through the incident's message: shown at its version, not redrawn.
    const drawn = h.updates.length;
    await h.cards.shows('rb-1', 2);
    expect(h.updates).toHaveLength(drawn);
  });

  it('posts the incident message once when its syncs, the card’s redraws and replies race', async () => {
    const h = setup();
    await h.store.putDoc(COLLECTIONS.incidents, INCIDENT.id, INCIDENT, 0);
    await h.engine.declare(identity, rollbackInput({ incidentId: INCIDENT.id }), T0, USERS.declarer);
    await Promise.all([
      h.records.join(INCIDENT.id, 'rb-1'),
      h.threads.sync(INCIDENT.id),
      h.cards.reply('rb-1', { text: 'declared' }),
      h.cards.shows('rb-1', 1),
      h.engine.dispatch('rb-1', { type: 'APPROVE', by: USERS.oncall, roles: ROLES.oncall, at: T0 + MINUTE }),
    ]);
    await h.settled();
    const tops = h.posted.filter((p) => p.thread_ts === undefined);
    expect(tops).toHaveLength(1);
    expect(h.posted.filter((p) => p.thread_ts !== tops[0]!.ts && p.thread_ts !== undefined)).toEqual([]);
    // The last draw shows the approved rollback.
    expect(JSON.stringify(h.updated.at(-1)?.blocks)).toContain('rollback:abort');
  });

  it('two replicas post the incident message once when one commits and the other syncs and replies', async () => {
    const a = setup();
    const b = setup({ store: a.store, posted: a.posted });
    await a.store.putDoc(COLLECTIONS.incidents, INCIDENT.id, INCIDENT, 0);
    await Promise.all([
      a.engine.declare(identity, rollbackInput({ incidentId: INCIDENT.id }), T0, USERS.declarer),
      b.threads.sync(INCIDENT.id),
      b.records.join(INCIDENT.id, 'rb-1'),
    ]);
    await Promise.all([b.cards.reply('rb-1', { text: 'declared' }), b.cards.shows('rb-1', 1)]);
    await Promise.all([a.settled(), b.settled()]);
    const tops = a.posted.filter((p) => p.thread_ts === undefined);
    expect(tops).toHaveLength(1);
    expect(a.posted.filter((p) => p.thread_ts !== undefined).map((p) => p.thread_ts)).toEqual([tops[0]!.ts]);
    // Both drew the same message, each from the newest stored state.
    expect([...a.updated, ...b.updated].map((u) => u.ts)).toEqual(
      [...a.updated, ...b.updated].map(() => tops[0]!.ts),
    );
    expect(JSON.stringify(b.updated.at(-1)?.blocks)).toContain('rollback:approve');
  });

  it("says on the card when nobody holds the tier's role, from the rollback's own policy", async () => {
    // The catalog holds no policy at all: who holds what comes from the policy copied at declaration.
    const h = setup(undefined, { S0ONCALL: [] });
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await h.cards.publisher.settled();
    const drawn = JSON.stringify((await h.drawer.draw('rb-1'))?.message.blocks);
    expect(drawn).toContain('🔐 *Who may approve now:* *on-call-engineer* or above');
    expect(drawn).toContain('⚠️ Nobody holds *on-call-engineer*: paging *team-lead*.');
    expect(drawn).not.toContain(USERS.lead); // named, not paged: the card is redrawn often

    const held = setup(undefined, { S0ONCALL: [USERS.oncall] });
    await held.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await held.cards.publisher.settled();
    expect(JSON.stringify((await held.drawer.draw('rb-1'))?.message.blocks)).not.toContain('Nobody holds');
  });
});
