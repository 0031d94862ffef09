/**
 * The one writer of rollback status cards. A commit made in this process redraws the card from the
 * committed record, which costs no read; a notice the outbox delivers makes sure the card shows at
 * least the version the notice was decided at, so a card a crash or another replica left behind is
 * brought up to date there. Nothing else asks for a redraw: clicks and commands change the rollback,
 * and the card follows the commit.
 *
 * The card shows the rollback's view (read model, masked), the buttons its current state accepts,
 * the plan's limitations, in the plan's channel, and, while approval is pending, whether anyone holds
 * the tier's roles (read as the notices page them). Posting and coalescing are the publisher's job.
 */
import type { Logger } from 'pino';
import type { Catalog } from '../app/rollback-service.js';
import type { RollbackReads } from '../app/rollback-reads.js';
import { contextOf } from '../app/rollback-view.js';
import { approvalsRequired } from '../domain/authority.js';
import { eventsAccepted, restore, type PersistedRollback } from '../domain/rollback-machine.js';
import type { Docs, StoredRollback } from '../store/store.js';
import { renderStatusCard } from './blocks/status-card.js';
import { CardPublisher, type ChatApi, type SlackMessage } from './card-publisher.js';
import { pageTier, type GroupMembers } from './paging.js';

/** Rollbacks whose drawn version is remembered (the least recently drawn are forgotten first). */
const REMEMBERED = 1_000;

export class RollbackCards {
  /** Posts cards and thread replies; others reply in a rollback's thread through it. */
  readonly publisher: CardPublisher;
  /** The version each card must show at least (what the next redraw draws). */
  private readonly wanted = new Map<string, number>();
  /** The version each card was last drawn at, here: `drawn` until Slack took it, then `shown`. */
  private readonly drawn = new Map<string, number>();
  private readonly shown = new Map<string, number>();

  constructor(
    private readonly deps: {
      client: ChatApi;
      /** Where the cards' addresses are kept. */
      store: Docs;
      reads: Pick<RollbackReads, 'record' | 'viewOf'>;
      catalog: () => Catalog;
      /** A user group's members as Slack reports them (cached), as the paging notices read them. */
      groupMembers: GroupMembers;
      now: () => number;
      log: Logger;
    },
  ) {
    this.publisher = new CardPublisher({
      client: deps.client,
      store: deps.store,
      log: deps.log,
      draw: (rollbackId) => this.draw(rollbackId, this.wanted.get(rollbackId)),
    });
  }

  /** The engine's commit listener (after the read model's, which keeps the committed record). */
  readonly committed = ({ rollback }: { rollback: StoredRollback }): void => {
    this.redraw(rollback.id, rollback.version).catch((error: unknown) => {
      this.deps.log.warn({ err: error, rollbackId: rollback.id }, 'could not redraw the status card');
    });
  };

  /** Redraws the card unless it was drawn here at `version` or later. */
  async shows(rollbackId: string, version: number): Promise<void> {
    if ((this.shown.get(rollbackId) ?? 0) >= version) return;
    await this.redraw(rollbackId, version);
  }

  /**
   * The card of a rollback at `atLeast` or newer (without it: as stored now), and its channel;
   * null when there is no such rollback.
   */
  async draw(
    rollbackId: string,
    atLeast?: number,
  ): Promise<{ channel: string; message: SlackMessage } | null> {
    const record = await this.deps.reads.record(rollbackId, atLeast);
    if (!record) return null;
    const { rollback } = record;
    const context = contextOf(rollback);
    const plan = this.deps.catalog().plans.get(context.service);
    const view = this.deps.reads.viewOf(record);
    const { approver } = view;
    const paging =
      approver === null
        ? undefined
        : await pageTier(
            context.policy,
            { approver: approver.role, notify: approver.notify },
            this.deps.groupMembers,
          );
    const message = renderStatusCard({
      view,
      limitations: plan?.limitations ?? [],
      acceptedEvents: eventsAccepted(restore(rollback.snapshot as PersistedRollback)),
      now: this.deps.now(),
      approvalsRequired: approvalsRequired(context.policy, context.environment),
      ...(paging === undefined ? {} : { paging }),
    });
    if (atLeast !== undefined) remember(this.drawn, rollbackId, rollback.version);
    return { channel: plan?.channel ?? context.declaredBy, message };
  }

  private async redraw(rollbackId: string, version: number): Promise<void> {
    remember(this.wanted, rollbackId, Math.max(version, this.wanted.get(rollbackId) ?? 0));
    await this.publisher.refresh(rollbackId);
    // Only a card Slack accepted counts as shown: after a failed update the notice's retry redraws.
    const drawn = this.drawn.get(rollbackId);
    if (drawn !== undefined) remember(this.shown, rollbackId, drawn);
  }
}

function remember(versions: Map<string, number>, rollbackId: string, version: number): void {
  versions.delete(rollbackId);
  versions.set(rollbackId, version);
  for (const id of versions.keys()) {
    if (versions.size <= REMEMBERED) break;
    versions.delete(id);
  }
}
