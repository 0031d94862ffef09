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
 *
 * Where a card lives: a rollback declared in an open incident (its context names the incident) has
 * no message of its own. Its card is drawn on the incident's message, whose one writer (the incident
 * thread) composes the incident and its rollbacks' cards from `inIncident`; redrawing the card is
 * asking that writer to redraw, and every reply (notices, step output, warnings, the post-mortem)
 * goes into the incident's thread. So each Slack message keeps one writer, coalesced per message, and
 * posted once across replicas by the publisher that owns it. A rollback without an incident (or one
 * whose incident has no message: its plan's channel is gone) keeps its own card and thread.
 */
import type { Logger } from 'pino';
import type { Catalog } from '../app/rollback-service.js';
import type { RollbackReads, RollbackRecord } from '../app/rollback-reads.js';
import { contextOf } from '../app/rollback-view.js';
import { approvalsRequired } from '../domain/authority.js';
import { eventsAccepted, restore, type PersistedRollback } from '../domain/rollback-machine.js';
import type { Docs, StoredRollback } from '../store/store.js';
import type { IncidentRollback } from './blocks/incident-messages.js';
import { section } from './blocks/kit.js';
import { renderStatusCard, type StatusCardInput } from './blocks/status-card.js';
import { CardPublisher, type CardAddress, type ChatApi, type SlackMessage } from './card-publisher.js';
import { pageTier, type GroupMembers } from './paging.js';

/** Rollbacks whose drawn version is remembered (the least recently drawn are forgotten first). */
const REMEMBERED = 1_000;

/** The incident messages, as their one writer (the incident thread) offers them to the cards. */
export interface IncidentMessages {
  /** Posts the incident's message if it is not posted yet; null when it has none (no channel). */
  ensure(incidentId: string): Promise<CardAddress | null>;
  /** Redraws it (coalesced with the incident's own redraws). */
  refresh(incidentId: string): Promise<void>;
  /** Posts in its thread. */
  reply(incidentId: string, message: SlackMessage): Promise<void>;
}

export class RollbackCards {
  /** Posts the cards of rollbacks without an incident, and replies in their threads. */
  readonly publisher: CardPublisher;
  /** The version each card must show at least (what the next redraw draws). */
  private readonly wanted = new Map<string, number>();
  /** The version each card was last drawn at, here: `drawn` until Slack took it, then `shown`. */
  private readonly drawn = new Map<string, number>();
  private readonly shown = new Map<string, number>();
  /** The incident each rollback was declared in ('' for none): fixed at the declaration. */
  private readonly incidents = new Map<string, string>();
  /** Redraws under way (shutdown waits for them: they may start an incident message's redraw). */
  private readonly redrawing = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      client: ChatApi;
      /** Where the cards' addresses are kept. */
      store: Docs;
      reads: Pick<RollbackReads, 'record' | 'viewOf'>;
      catalog: () => Catalog;
      /** The incidents' messages, on which the cards of their rollbacks are drawn. */
      incidentMessages: IncidentMessages;
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
    if (!this.incidents.has(rollback.id)) {
      remember(this.incidents, rollback.id, contextOf(rollback).incidentId ?? '');
    }
    this.redraw(rollback.id, rollback.version).catch((error: unknown) => {
      this.deps.log.warn({ err: error, rollbackId: rollback.id }, 'could not redraw the status card');
    });
  };

  /** Redraws the card unless it was drawn here at `version` or later. */
  async shows(rollbackId: string, version: number): Promise<void> {
    if ((this.shown.get(rollbackId) ?? 0) >= version) return;
    await this.redraw(rollbackId, version);
  }

  /** Posts in the rollback's thread: its incident's, or its own card's. */
  async reply(rollbackId: string, message: SlackMessage): Promise<void> {
    const incidentId = await this.incidentMessageOf(rollbackId);
    if (incidentId === null) await this.publisher.reply(rollbackId, message);
    else await this.deps.incidentMessages.reply(incidentId, message);
  }

  /**
   * A warning in the rollback's thread that must not stop anything (a stakeholder target failed):
   * posted in the background, a failure to post it only logged. `message` is mrkdwn whose foreign
   * text the caller escaped (its channel mention must work).
   */
  warn(rollbackId: string, message: string): void {
    this.reply(rollbackId, { text: message, blocks: [section(`⚠️ ${message}`)] }).catch((error: unknown) => {
      this.deps.log.warn({ err: error, rollbackId }, 'could not post a warning in the thread');
    });
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
    if (atLeast !== undefined) remember(this.drawn, rollbackId, record.rollback.version);
    return { channel: plan?.channel ?? context.declaredBy, message };
  }

  /**
   * What the incident's message draws of its rollbacks (its writer calls this at every redraw): each
   * one's card at the version it must show at least, and whether the card lives there.
   */
  async inIncident(incidentId: string, rollbackIds: readonly string[]): Promise<IncidentRollback[]> {
    const records = await Promise.all(
      rollbackIds.map((id) => this.deps.reads.record(id, this.wanted.get(id))),
    );
    return Promise.all(
      records
        .filter((record): record is RollbackRecord => record !== null)
        .map(async (record) => {
          const { id, version } = record.rollback;
          if (this.wanted.has(id)) remember(this.drawn, id, version);
          return {
            card: await this.cardInput(record),
            here: contextOf(record.rollback).incidentId === incidentId,
          };
        }),
    );
  }

  /** Resolves once no card is being redrawn or posted (shutdown waits on it before the store closes). */
  async settled(): Promise<void> {
    while (this.redrawing.size > 0) await Promise.allSettled([...this.redrawing]);
    await this.publisher.settled();
  }

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

  /**
   * The incident whose message carries the rollback's card; null when it has its own card (no
   * incident, or an incident with no message to carry it).
   */
  private async incidentMessageOf(rollbackId: string): Promise<string | null> {
    let incidentId = this.incidents.get(rollbackId);
    if (incidentId === undefined) {
      // Any version will do: the incident is fixed at the declaration.
      const record = await this.deps.reads.record(rollbackId, 0);
      if (!record) return null;
      incidentId = contextOf(record.rollback).incidentId ?? '';
      remember(this.incidents, rollbackId, incidentId);
    }
    if (incidentId === '') return null;
    return (await this.deps.incidentMessages.ensure(incidentId)) === null ? null : incidentId;
  }

  private redraw(rollbackId: string, version: number): Promise<void> {
    remember(this.wanted, rollbackId, Math.max(version, this.wanted.get(rollbackId) ?? 0));
    const done = (async () => {
      const incidentId = await this.incidentMessageOf(rollbackId);
      if (incidentId === null) await this.publisher.refresh(rollbackId);
      else await this.deps.incidentMessages.refresh(incidentId);
      // Only a card Slack accepted counts as shown: after a failed update the notice's retry redraws.
      const drawn = this.drawn.get(rollbackId);
      if (drawn !== undefined) remember(this.shown, rollbackId, drawn);
    })();
    // Tracked for `settled` only: the caller hears of a failure through `done`.
    const tracked: Promise<void> = done.catch(() => undefined).finally(() => this.redrawing.delete(tracked));
    this.redrawing.add(tracked);
    return done;
  }
}

function remember<T>(values: Map<string, T>, rollbackId: string, value: T): void {
  values.delete(rollbackId);
  values.set(rollbackId, value);
  for (const id of values.keys()) {
    if (values.size <= REMEMBERED) break;
    values.delete(id);
  }
}
