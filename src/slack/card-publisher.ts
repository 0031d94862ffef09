/**
 * The status card: one parent message per rollback in the plan's channel, updated in place, with a
 * thread for everything that happens. Updates are coalesced per card: at most one `chat.update` in
 * flight, and a refresh asked for meanwhile redraws once more from the newest stored state, so a
 * burst of transitions costs two calls, not one each. The card's address (channel, ts) is kept in
 * the store so every replica updates the same message. The same publisher keeps each incident's
 * thread parent: its subject is a rollback id or an incident id, hence `subjectId`.
 *
 * Every call to Slack goes through `send`: Slack limiting or not answering the bot becomes a
 * `SlackUnavailableError` (the caller's retry waits it out: an effect's redelivery, a background
 * retry); a message Slack refuses for its blocks is sent again as its plain text, and logged: those
 * blocks would be refused however often they were sent, and the words must still reach the thread.
 */
import { section } from './blocks/kit.js';
import type { KnownBlock } from '@slack/types';
import type { Logger } from 'pino';
import { Coalescer } from '../lib/coalescer.js';
import { COLLECTIONS, type Collection } from '../store/collections.js';
import { doOnce } from '../store/once.js';
import type { Docs } from '../store/store.js';
import { blocksRefused, slackError, slackFailure } from './slack-errors.js';

export interface SlackMessage {
  text: string;
  blocks?: KnownBlock[];
}

export interface ChatApi {
  chat: {
    postMessage(args: {
      channel: string;
      text: string;
      blocks?: KnownBlock[];
      thread_ts?: string;
    }): Promise<{ ts?: string; channel?: string }>;
    update(args: { channel: string; ts: string; text: string; blocks?: KnownBlock[] }): Promise<unknown>;
  };
}

export interface CardAddress {
  channel: string;
  ts: string;
}

/** Card addresses kept in memory. */
const KNOWN_ADDRESSES = 2_000;

/** How long the others wait for the address of a card one replica is posting. */
const CLAIM_WAIT_MS = 5_000;

export class CardPublisher {
  private readonly refreshing = new Coalescer();
  /** Cards being posted: concurrent callers in this process wait for the one post. */
  private readonly posting = new Map<string, Promise<CardAddress | null>>();
  /** Addresses already read: a card's address never changes once stored (the first post wins). */
  private readonly known = new Map<string, CardAddress>();

  constructor(
    private readonly options: {
      client: ChatApi;
      store: Docs;
      log: Logger;
      /**
       * Where addresses and the once-records of posting them are kept (default: rollback cards);
       * incident threads keep theirs apart.
       */
      collections?: { addresses: Collection; claims: Collection };
      /** Draws the card from the newest stored state; null when its subject is gone. */
      draw: (subjectId: string) => Promise<{ channel: string; message: SlackMessage } | null>;
    },
  ) {}

  private get collections(): { addresses: Collection; claims: Collection } {
    return (
      this.options.collections ?? { addresses: COLLECTIONS.slackCards, claims: COLLECTIONS.slackCardClaims }
    );
  }

  async address(subjectId: string): Promise<CardAddress | null> {
    const known = this.known.get(subjectId);
    if (known) return known;
    const stored = await this.options.store.getDoc<CardAddress>(this.collections.addresses, subjectId);
    if (!stored) return null;
    this.known.set(subjectId, stored.value);
    // Bounded: the oldest subjects are forgotten first (and read again if they ever come back).
    for (const id of this.known.keys()) {
      if (this.known.size <= KNOWN_ADDRESSES) break;
      this.known.delete(id);
    }
    return stored.value;
  }

  /** Posts the card if it does not exist yet; returns where it is. */
  ensure(subjectId: string): Promise<CardAddress | null> {
    const running = this.posting.get(subjectId);
    if (running) return running;
    const posted = this.post(subjectId).finally(() => this.posting.delete(subjectId));
    this.posting.set(subjectId, posted);
    return posted;
  }

  private async post(subjectId: string): Promise<CardAddress | null> {
    const existing = await this.address(subjectId);
    if (existing) return existing;
    // One replica posts; the others wait for its address.
    const posted = await doOnce(this.options.store, this.collections.claims, subjectId, () =>
      this.postNew(subjectId),
    );
    if (posted === 'skipped') return null;
    return posted === 'busy' ? this.waitForAddress(subjectId) : this.address(subjectId);
  }

  /** False when there is nothing to post (the subject is gone or has no channel). */
  private async postNew(subjectId: string): Promise<boolean> {
    const drawn = await this.options.draw(subjectId);
    if (!drawn) return false;
    const posted = await this.send(subjectId, drawn.message, (message) =>
      this.options.client.chat.postMessage({ channel: drawn.channel, ...message }),
    );
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    const address = { channel: posted.channel ?? drawn.channel, ts: posted.ts };
    // Written unless another replica posted first: then theirs is kept (ours is a harmless extra).
    await this.options.store.putDoc(this.collections.addresses, subjectId, address, 0);
    return true;
  }

  /** The address another replica is posting; an error (the effect is retried) if it takes too long. */
  private async waitForAddress(subjectId: string): Promise<CardAddress> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    while (Date.now() < deadline) {
      const address = await this.address(subjectId);
      if (address) return address;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`another replica is posting the message of ${subjectId}; it will be retried`);
  }

  /** Resolves once no card is being posted or redrawn (shutdown waits on it before the store closes). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.posting.values()]);
    await this.refreshing.settled();
  }

  /** Redraws the card; concurrent requests for one card collapse into at most one more update. */
  refresh(subjectId: string): Promise<void> {
    return this.refreshing.run(subjectId, () => this.redraw(subjectId));
  }

  /**
   * A warning in the thread that must not stop anything (a stakeholder target failed): posted in
   * the background, a failure to post it only logged. `message` is mrkdwn whose foreign text the
   * caller escaped (its channel mention must work).
   */
  warn(subjectId: string, message: string): void {
    this.reply(subjectId, { text: message, blocks: [section(`⚠️ ${message}`)] }).catch((error: unknown) => {
      this.options.log.warn({ err: error, subjectId }, 'could not post a warning in the thread');
    });
  }

  async reply(subjectId: string, message: SlackMessage): Promise<void> {
    const card = await this.ensure(subjectId);
    if (!card) return;
    await this.send(subjectId, message, (sent) =>
      this.options.client.chat.postMessage({ channel: card.channel, thread_ts: card.ts, ...sent }),
    );
  }

  private async redraw(subjectId: string): Promise<void> {
    const card = await this.ensure(subjectId);
    const drawn = await this.options.draw(subjectId);
    if (!card || !drawn) return;
    await this.send(subjectId, drawn.message, (message) =>
      // Empty blocks replace the card's: without them Slack would keep the old ones.
      this.options.client.chat.update({ channel: card.channel, ts: card.ts, blocks: [], ...message }),
    );
  }

  /** One call to Slack with `message`, falling back to its plain text when Slack refuses its blocks. */
  private async send<T>(
    subjectId: string,
    message: SlackMessage,
    call: (message: SlackMessage) => Promise<T>,
  ) {
    try {
      return await call(message);
    } catch (error) {
      const failure = slackFailure(error);
      if (!blocksRefused(failure) || message.blocks === undefined) throw slackError(error);
      this.options.log.error(
        { subjectId, error: failure.error, blocks: message.blocks.length },
        'Slack refused the blocks of a message; sending its plain text instead',
      );
      try {
        return await call({ text: message.text });
      } catch (fallback) {
        throw slackError(fallback);
      }
    }
  }
}
