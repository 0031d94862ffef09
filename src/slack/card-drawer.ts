/**
 * Draws rollback status cards: the rollback's view (read model, masked), the buttons its current
 * state accepts, the plan's limitations and, while approval is pending, whether anyone holds the
 * tier's roles (read as the notices page them). It posts nothing: the cards' writer (rollback-cards)
 * and the incident thread (whose message carries the cards of its rollbacks) both draw through it,
 * which is why it stands apart from both of them.
 *
 * It remembers the version each card must show at least (`want`, set by the writer before a redraw)
 * and the version it last drew for a redraw (`drawnAt`), so the writer knows what Slack was shown.
 */
import type { Catalog } from '../app/rollback-service.js';
import type { RollbackReads, RollbackRecord } from '../app/rollback-reads.js';
import { contextOf } from '../app/rollback-view.js';
import { approvalsRequired } from '../domain/authority.js';
import { eventsAccepted, restore, type PersistedRollback } from '../domain/rollback-machine.js';
import { RecentMap } from '../lib/recent-map.js';
import type { IncidentRollback } from './blocks/incident-messages.js';
import { renderStatusCard, type StatusCardInput } from './blocks/status-card.js';
import type { SlackMessage } from './card-publisher.js';
import { pageTier, type GroupMembers } from './paging.js';

/** Rollbacks whose versions are remembered (the least recently drawn are forgotten first). */
export const REMEMBERED_ROLLBACKS = 1_000;

export interface CardDrawerOptions {
  reads: Pick<RollbackReads, 'record' | 'viewOf'>;
  catalog: () => Catalog;
  /** A user group's members as Slack reports them (cached), as the paging notices read them. */
  groupMembers: GroupMembers;
  now: () => number;
}

export class CardDrawer {
  /** The version each card must show at least (what the next redraw draws). */
  private readonly wanted = new RecentMap<number>(REMEMBERED_ROLLBACKS);
  /** The version each card was last drawn at for a redraw. */
  private readonly drawn = new RecentMap<number>(REMEMBERED_ROLLBACKS);

  constructor(private readonly deps: CardDrawerOptions) {}

  /** The next redraw of this card draws `version` or newer. */
  want(rollbackId: string, version: number): void {
    this.wanted.set(rollbackId, Math.max(version, this.wanted.get(rollbackId) ?? 0));
  }

  /** The version the last redraw drew; undefined when none was drawn here. */
  drawnAt(rollbackId: string): number | undefined {
    return this.drawn.get(rollbackId);
  }

  /** The card a redraw posts: at the version wanted (see `draw`). */
  redrawn(rollbackId: string): Promise<{ channel: string; message: SlackMessage } | null> {
    return this.draw(rollbackId, this.wanted.get(rollbackId));
  }

  /**
   * The card of a rollback at `atLeast` or newer (without it: as stored now), and its channel;
   * null when there is no such rollback. The whole card, wherever it is drawn (`/rollback status`).
   */
  async draw(
    rollbackId: string,
    atLeast?: number,
  ): Promise<{ channel: string; message: SlackMessage } | null> {
    const record = await this.deps.reads.record(rollbackId, atLeast);
    if (!record) return null;
    const context = contextOf(record.rollback);
    const plan = this.deps.catalog().plans.get(context.service);
    const message = renderStatusCard(await this.cardInput(record));
    if (atLeast !== undefined) this.drawn.set(rollbackId, record.rollback.version);
    return { channel: plan?.channel ?? context.declaredBy, message };
  }

  /**
   * What the incident's message draws of its rollbacks (its writer calls this at every redraw): each
   * one's card at the version it must show at least, and whether the card lives there.
   */
  readonly inIncident = async (
    incidentId: string,
    rollbackIds: readonly string[],
  ): Promise<IncidentRollback[]> => {
    const records = await Promise.all(
      rollbackIds.map((id) => this.deps.reads.record(id, this.wanted.get(id))),
    );
    return Promise.all(
      records
        .filter((record): record is RollbackRecord => record !== null)
        .map(async (record) => {
          const { id, version } = record.rollback;
          if (this.wanted.has(id)) this.drawn.set(id, version);
          return {
            card: await this.cardInput(record),
            here: contextOf(record.rollback).incidentId === incidentId,
          };
        }),
    );
  };

  /** What the card shows; while approval is pending, whom the tier in force really pages. */
  private async cardInput(record: RollbackRecord): Promise<StatusCardInput> {
    const context = contextOf(record.rollback);
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
    return {
      view,
      limitations: this.deps.catalog().plans.get(context.service)?.limitations ?? [],
      acceptedEvents: eventsAccepted(restore(record.rollback.snapshot as PersistedRollback)),
      now: this.deps.now(),
      approvalsRequired: approvalsRequired(context.policy, context.environment),
      ...(paging === undefined ? {} : { paging }),
    };
  }
}
