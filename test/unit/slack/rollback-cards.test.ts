/**
 * The status card has one writer: commits made here redraw it from the committed record, and a
 * delivered notice redraws it only when the card does not show the notice's version yet (after a
 * crash, on another replica, or after Slack refused the last update).
 */
import { describe, expect, it } from 'vitest';
import { RollbackReads } from '../../../src/app/rollback-reads.js';
import type { Catalog } from '../../../src/app/rollback-service.js';
import type { RollbackInput } from '../../../src/domain/rollback-types.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollbackDecider } from '../../../src/engine/rollback-decider.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { RollbackCards } from '../../../src/slack/rollback-cards.js';
import { MemoryStore } from '../../../src/store/index.js';
import { MINUTE, ROLES, T0, USERS, rollbackInput } from '../../support/domain-fixtures.js';

/** `groups`: user group -> members as Slack reports them (default: everyone's group has someone). */
function setup(groups: Record<string, string[]> = {}) {
  const store = new MemoryStore();
  const updates: string[] = [];
  let refuseUpdates = false;
  const client = {
    chat: {
      postMessage: (args: { channel: string }) => Promise.resolve({ ts: '1.000001', channel: args.channel }),
      update: (args: { text: string }) => {
        if (refuseUpdates) return Promise.reject(new Error('ratelimited'));
        updates.push(args.text);
        return Promise.resolve({});
      },
    },
  };
  const reads = new RollbackReads({ store, now: () => T0 + MINUTE });
  const catalog: Catalog = { plans: new Map(), policies: new Map() };
  const cards = new RollbackCards({
    client,
    store,
    reads,
    catalog: () => catalog,
    groupMembers: (group) => Promise.resolve(groups[group] ?? [USERS.oncall]),
    now: () => T0,
    log: silentLogger,
  });
  const engine = new Engine<RollbackInput>({ store, decider: rollbackDecider, log: silentLogger });
  engine.onCommitted(reads.committed);
  engine.onCommitted(cards.committed);
  return {
    engine,
    cards,
    updates,
    refuse: (refused: boolean) => {
      refuseUpdates = refused;
    },
  };
}

const identity = { id: 'rb-1', service: 'checkout', environment: 'production' };

describe('RollbackCards', () => {
  it('redraws on a commit, and a notice of a version already shown changes nothing', async () => {
    const h = setup();
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await h.cards.publisher.settled();
    await h.engine.dispatch('rb-1', {
      type: 'APPROVE',
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: T0 + MINUTE,
    });
    await h.cards.publisher.settled();
    const drawn = h.updates.length;
    expect(drawn).toBeGreaterThan(0);
    await h.cards.shows('rb-1', 2);
    expect(h.updates).toHaveLength(drawn);
  });

  it('a notice redraws a card Slack refused to update', async () => {
    const h = setup();
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await h.cards.publisher.settled();
    h.refuse(true);
    await h.engine.dispatch('rb-1', {
      type: 'APPROVE',
      by: USERS.oncall,
      roles: ROLES.oncall,
      at: T0 + MINUTE,
    });
    await h.cards.publisher.settled();
    h.refuse(false);
    const before = h.updates.length;
    await h.cards.shows('rb-1', 2);
    expect(h.updates.length).toBe(before + 1);
  });

  it("says on the card when nobody holds the tier's role, from the rollback's own policy", async () => {
    // The catalog holds no policy at all: who holds what comes from the policy copied at declaration.
    const h = setup({ S0ONCALL: [] });
    await h.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await h.cards.publisher.settled();
    const drawn = JSON.stringify((await h.cards.draw('rb-1'))?.message.blocks);
    expect(drawn).toContain('🔐 *Who may approve now:* *on-call-engineer* or above');
    expect(drawn).toContain('⚠️ Nobody holds *on-call-engineer*: paging *team-lead*.');
    expect(drawn).not.toContain(USERS.lead); // named, not paged: the card is redrawn often

    const held = setup({ S0ONCALL: [USERS.oncall] });
    await held.engine.declare(identity, rollbackInput(), T0, USERS.declarer);
    await held.cards.publisher.settled();
    expect(JSON.stringify((await held.cards.draw('rb-1'))?.message.blocks)).not.toContain('Nobody holds');
  });
});
