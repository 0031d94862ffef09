/**
 * Keeps an incident's Slack thread in step with the stored incident. `announce(id)` is called after
 * every change; it is coalesced per incident (one sync at a time, one more if asked meanwhile), and
 * a sync is idempotent: it posts the parent once, redraws it in place, posts one reply for all the
 * alert changes not told yet, and each one-off reply (the offer, the automatic rollback, a rollback
 * joining, the close) once, remembered in the store like the rollback notices.
 *
 * The parent is the incident's one message: it carries the status cards of the rollbacks declared in
 * the incident, and their notices are its replies. This is its one writer: the rollback cards ask it
 * to redraw (`refresh`) and to reply (`reply`) and hand it their cards (`cards`), so the incident's
 * changes and its rollbacks' commits are drawn by the same coalesced publisher, never by two.
 *
 * A sync Slack could not take (limiting or not answering the bot, or the store away) is owed: the
 * incident is noted in the store as behind, and every replica's sweep syncs the incidents behind
 * every few seconds until one gets through. Nothing else would: an alert group that does not change
 * is not delivered again for hours, so the thread of an alert that fired during a Slack outage would
 * never be posted. Noted in the store, it survives a restart and is taken up by any replica.
 */
import type { Logger } from 'pino';
import type { IncidentRecords } from '../app/incident-records.js';
import { markAnnounced, type Incident } from '../domain/incident.js';
import { Coalescer } from '../lib/coalescer.js';
import { RollbackError } from '../lib/errors.js';
import { changeDoc } from '../store/change-doc.js';
import { COLLECTIONS } from '../store/collections.js';
import { doOnce } from '../store/once.js';
import type { Deployment, Docs } from '../store/store.js';
import {
  renderAlertChanges,
  renderAutoRollback,
  renderIncidentClosed,
  renderIncidentParent,
  renderRollbackJoined,
  renderRollbackOffer,
  type IncidentRollback,
  type RollbackLine,
  type ThreadMessage,
} from './blocks/incident-messages.js';
import { CardPublisher, type CardAddress, type ChatApi, type SlackMessage } from './card-publisher.js';
import type { IncidentMessages } from './rollback-cards.js';
import { SlackUnavailableError } from './slack-errors.js';

export interface IncidentThreadOptions {
  client: ChatApi;
  store: Docs;
  incidents: Pick<IncidentRecords, 'get' | 'update'>;
  /** The plan's channel for a service; null when the plan is gone. */
  channelOf: (service: string) => string | null;
  /** One of its rollbacks, and the incident it was declared in (null: none, it has its own card). */
  rollback: (
    id: string,
  ) => Promise<(RollbackLine & { declaredBy: string; incidentId: string | null }) | null>;
  /** The incident's rollbacks as its message draws them (their cards, by their one writer). */
  cards: (incidentId: string, rollbackIds: readonly string[]) => Promise<IncidentRollback[]>;
  deployments: (service: string, environment: string) => Promise<Deployment[]>;
  now: () => number;
  log: Logger;
  /** How often the incidents behind are synced again (default 5 s). */
  sweepMs?: number;
}

/** An incident whose thread is behind: since when (the first sync that failed). */
interface Behind {
  since: number;
}

/** A thread still behind after this long is given up (logged): the incident is a day old. */
const BEHIND_MAX_MS = 24 * 60 * 60_000;

/** A one-off reply that turned out to have nothing to say: done, never asked again. */
const NOTHING = Symbol('nothing to tell');

export class IncidentThreads implements IncidentMessages {
  private readonly parents: CardPublisher;
  private readonly syncing = new Coalescer();
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private sweeping: Promise<void> | undefined;
  /** Slack asked the bot to wait (Retry-After) until then: the sweep does not ask sooner. */
  private quietUntil = 0;

  constructor(private readonly options: IncidentThreadOptions) {
    this.parents = new CardPublisher({
      client: options.client,
      store: options.store,
      log: options.log,
      collections: { addresses: COLLECTIONS.incidentThreads, claims: COLLECTIONS.incidentThreadClaims },
      draw: (id) => this.drawParent(id),
    });
  }

  /** Fire and forget: a sync that failed for a while is owed (the sweep retries it), others logged. */
  announce(incidentId: string): void {
    void this.sync(incidentId).catch((error: unknown) => this.failed(incidentId, error));
  }

  /** Starts the sweep of the incidents whose thread is behind (the first one at once). */
  start(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.sweep();
    }, this.options.sweepMs ?? 5_000);
    this.sweeper.unref();
    this.sweep();
  }

  /** Stops the sweep; what is still behind stays noted for the next process. */
  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.sweeping;
  }

  /** Resolves when the thread shows everything stored so far (tests and shutdown wait on it). */
  sync(incidentId: string): Promise<void> {
    return this.syncing.run(incidentId, () => this.syncOnce(incidentId));
  }

  /** Waits for every sync and redraw in flight. */
  async settled(): Promise<void> {
    await this.sweeping;
    await this.syncing.settled();
    await this.parents.settled();
  }

  private async failed(incidentId: string, error: unknown): Promise<void> {
    const { log } = this.options;
    log.warn({ err: error, incident: incidentId }, 'could not update the incident thread');
    if (!(error instanceof RollbackError && error.retryable)) return;
    if (error instanceof SlackUnavailableError && error.retryAfterMs !== undefined) {
      this.quietUntil = Math.max(this.quietUntil, Date.now() + error.retryAfterMs);
    }
    await this.noteBehind(incidentId).catch((noted: unknown) => {
      log.error({ err: noted, incident: incidentId }, 'could not note the incident thread as behind');
    });
  }

  /**
   * Written again when already noted, so that its version moves: a sweep that read the note before
   * this failure then leaves it. `since` is kept from the first failure: the give-up time counts from
   * when the thread fell behind.
   */
  private async noteBehind(incidentId: string): Promise<void> {
    await changeDoc<Behind>(this.options.store, COLLECTIONS.incidentThreadsBehind, incidentId, (noted) => ({
      since: noted?.since ?? Date.now(),
    }));
  }

  /** One sweep at a time; a tick while one runs is skipped, as is one inside Slack's Retry-After. */
  private sweep(): void {
    if (this.sweeping || Date.now() < this.quietUntil) return;
    this.sweeping = this.syncBehind()
      .catch((error: unknown) => {
        this.options.log.warn({ err: error }, 'could not read the incident threads behind');
      })
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  private async syncBehind(): Promise<void> {
    const { store, log } = this.options;
    const behind = await store.listDocs<Behind>(COLLECTIONS.incidentThreadsBehind);
    for (const { key: incidentId, value, version } of behind) {
      if (this.sweeper === undefined || Date.now() < this.quietUntil) return;
      try {
        await this.sync(incidentId);
      } catch (error) {
        const retryable = error instanceof RollbackError && error.retryable;
        if (retryable && Date.now() - value.since < BEHIND_MAX_MS) {
          await this.failed(incidentId, error);
          continue;
        }
        log.error({ err: error, incident: incidentId }, 'gave up bringing the incident thread up to date');
      }
      // A failure noted since this sweep read it stays (the version moved); the sync covered the rest.
      const now = await store.getDoc<Behind>(COLLECTIONS.incidentThreadsBehind, incidentId);
      if (now?.version === version) await store.deleteDoc(COLLECTIONS.incidentThreadsBehind, incidentId);
    }
  }

  /** Posts the incident's message if it is not posted yet; null when there is nothing to post. */
  ensure(incidentId: string): Promise<CardAddress | null> {
    return this.parents.ensure(incidentId);
  }

  /** Redraws the incident's message (a card on it changed); coalesced with the syncs' redraws. */
  refresh(incidentId: string): Promise<void> {
    return this.parents.refresh(incidentId);
  }

  /** Posts in the incident's thread (a notice of a rollback whose card is on the message). */
  reply(incidentId: string, message: SlackMessage): Promise<void> {
    return this.parents.reply(incidentId, message);
  }

  private async syncOnce(incidentId: string): Promise<void> {
    const incident = await this.options.incidents.get(incidentId);
    if (!incident) return;
    const posted = await this.parents.address(incidentId);
    if (posted) await this.parents.refresh(incidentId);
    else if (!(await this.parents.ensure(incidentId))) return;

    await this.tellChanges(incidentId);
    await this.tellTrigger(incident);
    for (const rollbackId of incident.rollbackIds) {
      await this.once(incident, `rollback:${rollbackId}`, async () => {
        const rollback = await this.options.rollback(rollbackId);
        if (!rollback) return null;
        // Declared in this incident: its card is on the message and its notices follow here.
        if (rollback.incidentId === incident.id) return NOTHING;
        return renderRollbackJoined(rollback);
      });
    }
    if (incident.closedAt !== null) {
      await this.once(incident, 'closed', () => Promise.resolve(renderIncidentClosed(incident)));
    }
  }

  /**
   * One reply for every alert change not told yet. The changes are claimed first (a version-guarded
   * write that empties the to-tell lists), so two replicas never tell the same change; a reply that
   * fails puts them back for the next sync.
   */
  private async tellChanges(incidentId: string): Promise<void> {
    type Batch = { firing: string[]; resolved: string[] };
    const claim: { batch: Batch | null } = { batch: null };
    const after = await this.options.incidents.update(incidentId, (current) => {
      const { firing, resolved } = current.unannounced;
      claim.batch = firing.length > 0 || resolved.length > 0 ? { firing, resolved } : null;
      return claim.batch === null ? null : markAnnounced(current, claim.batch);
    });
    const told = claim.batch;
    if (told === null || after === null) return;
    try {
      await this.parents.reply(incidentId, renderAlertChanges(after, told));
    } catch (error) {
      await this.options.incidents.update(incidentId, (current) => ({
        ...current,
        unannounced: {
          firing: [...new Set([...told.firing, ...current.unannounced.firing])],
          resolved: [...new Set([...told.resolved, ...current.unannounced.resolved])],
        },
      }));
      throw error;
    }
  }

  private async tellTrigger(incident: Incident): Promise<void> {
    const trigger = incident.trigger;
    if (trigger === null || incident.closedAt !== null) return;
    if (trigger.action === 'auto') {
      await this.once(incident, trigger.refused ? 'auto-refused' : 'auto', () =>
        Promise.resolve(renderAutoRollback(trigger)),
      );
      return;
    }
    // Someone already declared a rollback for this incident: the offer would only confuse.
    if (incident.rollbackIds.length > 0) return;
    if (this.options.channelOf(incident.service) === null) return;
    // The default offer gives way to a plan trigger that matches later (the domain allows it until
    // someone acts): that trigger's offer is a reply of its own, once.
    await this.once(incident, trigger.name === null ? 'offer' : `offer:${trigger.name}`, () =>
      Promise.resolve(renderRollbackOffer(incident, trigger)),
    );
  }

  /**
   * `render` answers null when it cannot tell yet (asked again at the next sync), NOTHING when there
   * is nothing to tell (done).
   */
  private async once(
    incident: Incident,
    what: string,
    render: () => Promise<ThreadMessage | typeof NOTHING | null>,
  ): Promise<void> {
    await doOnce(this.options.store, COLLECTIONS.incidentNotices, `${incident.id}:${what}`, async () => {
      const message = await render();
      if (!message) return false;
      if (message !== NOTHING) await this.parents.reply(incident.id, message);
      return true;
    });
  }

  private async drawParent(incidentId: string) {
    const incident = await this.options.incidents.get(incidentId);
    if (!incident) return null;
    const channel = this.options.channelOf(incident.service);
    if (channel === null) return null;
    const [deployments, rollbacks] = await Promise.all([
      this.options.deployments(incident.service, incident.environment),
      this.options.cards(incident.id, incident.rollbackIds),
    ]);
    const message = renderIncidentParent({ incident, deployments, rollbacks, now: this.options.now() });
    return { channel, message };
  }
}
