/**
 * The one writer of rollback status cards. A commit made in this process redraws the card from the
 * committed record, which costs no read; a notice the outbox delivers makes sure the card shows at
 * least the version the notice was decided at, so a card a crash or another replica left behind is
 * brought up to date there. Nothing else asks for a redraw: clicks and commands change the rollback,
 * and the card follows the commit. What a card shows is the drawer's job (card-drawer); posting and
 * coalescing are the publisher's.
 *
 * Where a card lives: a rollback declared in an open incident (its context names the incident) has
 * no message of its own. Its card is drawn on the incident's message, whose one writer (the incident
 * thread) composes the incident and its rollbacks' cards through the same drawer; redrawing the card
 * is asking that writer to redraw, and every reply (notices, step output, warnings, the post-mortem)
 * goes into the incident's thread. So each Slack message keeps one writer, coalesced per message, and
 * posted once across replicas by the publisher that owns it. A rollback without an incident (or one
 * whose incident has no message: its plan's channel is gone) keeps its own card and thread.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { RollbackReads } from '../app/rollback-reads.js';
import { contextOf } from '../app/rollback-view.js';
import { RecentMap } from '../lib/recent-map.js';
import type { Docs, StoredRollback } from '../store/store.js';
import { section } from './blocks/kit.js';
import { REMEMBERED_ROLLBACKS, type CardDrawer } from './card-drawer.js';
import { CardPublisher, type CardAddress, type ChatApi, type SlackMessage } from './card-publisher.js';
import { SlackUnavailableError } from './slack-errors.js';

/** How long a reply posted in the background keeps being tried while Slack is unavailable. */
const LATER_MAX_MS = 15 * 60_000;
const LATER_MAX_PAUSE_MS = 10_000;

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
  /** The version each card was last shown at: drawn here, and taken by Slack. */
  private readonly shown = new RecentMap<number>(REMEMBERED_ROLLBACKS);
  /** The incident each rollback was declared in ('' for none): fixed at the declaration. */
  private readonly incidents = new RecentMap<string>(REMEMBERED_ROLLBACKS);
  /** Redraws under way (shutdown waits for them: they may start an incident message's redraw). */
  private readonly redrawing = new Set<Promise<void>>();
  /** Replies posted in the background, and the signal that stops their retries at shutdown. */
  private readonly later = new Set<Promise<void>>();
  private readonly closing = new AbortController();

  constructor(
    private readonly deps: {
      client: ChatApi;
      /** Where the cards' addresses are kept. */
      store: Docs;
      reads: Pick<RollbackReads, 'record'>;
      /** What the cards show. */
      drawer: CardDrawer;
      /** The incidents' messages, on which the cards of their rollbacks are drawn. */
      incidentMessages: IncidentMessages;
      log: Logger;
    },
  ) {
    this.publisher = new CardPublisher({
      client: deps.client,
      store: deps.store,
      log: deps.log,
      draw: (rollbackId) => deps.drawer.redrawn(rollbackId),
    });
  }

  /** The engine's commit listener (after the read model's, which keeps the committed record). */
  readonly committed = ({ rollback }: { rollback: StoredRollback }): void => {
    if (!this.incidents.has(rollback.id)) {
      this.incidents.set(rollback.id, contextOf(rollback).incidentId ?? '');
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
    void this.replyLater(rollbackId, { text: message, blocks: [section(`⚠️ ${message}`)] }, 'a warning');
  }

  /**
   * Posts in the rollback's thread without holding up the caller beyond the first try: while Slack
   * is limiting or not answering the bot, the reply is tried again in the background, pausing 1 s,
   * 2 s, 4 s... up to 10 s (longer if Slack's Retry-After asks), for up to 15 minutes or until
   * shutdown; then, or on a refusal, it is logged. Resolves after the first try, whatever it came
   * to. Step output and warnings are no effects the outbox would retry: without this, a Slack
   * hiccup would lose them.
   */
  replyLater(rollbackId: string, message: SlackMessage, what: string): Promise<void> {
    let first = (): void => undefined;
    const tried = new Promise<void>((resolve) => {
      first = resolve;
    });
    const task = (async () => {
      const started = Date.now();
      for (let attempt = 1; ; attempt += 1) {
        try {
          await this.reply(rollbackId, message);
          return;
        } catch (error) {
          first();
          const waits = error instanceof SlackUnavailableError && !this.closing.signal.aborted;
          if (!waits || Date.now() - started > LATER_MAX_MS) {
            this.deps.log.warn({ err: error, rollbackId, attempt }, `could not post ${what} in the thread`);
            return;
          }
          const pause = Math.max(
            error.retryAfterMs ?? 0,
            Math.min(LATER_MAX_PAUSE_MS, 1_000 * 2 ** (attempt - 1)),
          );
          await delay(pause, undefined, { signal: this.closing.signal }).catch(() => undefined);
        }
      }
    })().finally(() => {
      first();
      this.later.delete(task);
    });
    this.later.add(task);
    return tried;
  }

  /** Stops retrying background replies (shutdown): what is still waiting is logged and dropped. */
  close(): void {
    this.closing.abort();
  }

  /** Resolves once no card is being redrawn or posted (shutdown waits on it before the store closes). */
  async settled(): Promise<void> {
    while (this.redrawing.size > 0 || this.later.size > 0) {
      await Promise.allSettled([...this.redrawing, ...this.later]);
    }
    await this.publisher.settled();
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
      this.incidents.set(rollbackId, incidentId);
    }
    if (incidentId === '') return null;
    return (await this.deps.incidentMessages.ensure(incidentId)) === null ? null : incidentId;
  }

  private redraw(rollbackId: string, version: number): Promise<void> {
    this.deps.drawer.want(rollbackId, version);
    const done = (async () => {
      const incidentId = await this.incidentMessageOf(rollbackId);
      if (incidentId === null) await this.publisher.refresh(rollbackId);
      else await this.deps.incidentMessages.refresh(incidentId);
      // Only a card Slack accepted counts as shown: after a failed update the notice's retry redraws.
      const drawn = this.deps.drawer.drawnAt(rollbackId);
      if (drawn !== undefined) this.shown.set(rollbackId, drawn);
    })();
    // Tracked for `settled` only: the caller hears of a failure through `done`.
    const tracked: Promise<void> = done.catch(() => undefined).finally(() => this.redrawing.delete(tracked));
    this.redrawing.add(tracked);
    return done;
  }
}
