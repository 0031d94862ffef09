/**
 * The status card: one parent message per rollback in the plan's channel, updated in place, with a
 * thread for everything that happens. Updates are coalesced per card: at most one `chat.update` in
 * flight, and a refresh asked for meanwhile redraws once more from the newest stored state, so a
 * burst of transitions costs two calls, not one each. The card's address (channel, ts) is kept in
 * the store so every replica updates the same message.
 */
import type { KnownBlock } from '@slack/types';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';

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

const CARDS = 'slack-cards';
/** How long a replica's claim to post a card lasts, and how long the others wait for its address. */
const CLAIM_TTL_MS = 30_000;
const CLAIM_WAIT_MS = 5_000;

export class CardPublisher {
  private readonly refreshing = new Map<string, Promise<void>>();
  /** Cards being posted: concurrent callers in this process wait for the one post. */
  private readonly posting = new Map<string, Promise<CardAddress | null>>();
  /** Cards asked to refresh while an update was in flight. */
  private readonly dirty = new Set<string>();

  constructor(
    private readonly options: {
      client: ChatApi;
      store: Store;
      log: Logger;
      /** Where addresses are kept (default: rollback cards); incident threads keep theirs apart. */
      collection?: string;
      /** Draws the card from the newest stored state; null when the rollback is gone. */
      draw: (rollbackId: string) => Promise<{ channel: string; message: SlackMessage } | null>;
    },
  ) {}

  private get collection(): string {
    return this.options.collection ?? CARDS;
  }

  async address(rollbackId: string): Promise<CardAddress | null> {
    return (await this.options.store.getDoc<CardAddress>(this.collection, rollbackId))?.value ?? null;
  }

  /** Posts the card if it does not exist yet; returns where it is. */
  ensure(rollbackId: string): Promise<CardAddress | null> {
    const running = this.posting.get(rollbackId);
    if (running) return running;
    const posted = this.post(rollbackId).finally(() => this.posting.delete(rollbackId));
    this.posting.set(rollbackId, posted);
    return posted;
  }

  private async post(rollbackId: string): Promise<CardAddress | null> {
    const existing = await this.address(rollbackId);
    if (existing) return existing;
    // One replica posts; the others wait for its address. A failed post releases the claim, and a
    // claimer that died is taken over once its claim is older than the TTL.
    if (!(await this.claim(rollbackId))) return this.waitForAddress(rollbackId);
    try {
      return await this.postClaimed(rollbackId);
    } finally {
      await this.options.store.deleteDoc(this.claims, rollbackId);
    }
  }

  private async postClaimed(rollbackId: string): Promise<CardAddress | null> {
    const drawn = await this.options.draw(rollbackId);
    if (!drawn) return null;
    const posted = await this.options.client.chat.postMessage({ channel: drawn.channel, ...drawn.message });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    const address = { channel: posted.channel ?? drawn.channel, ts: posted.ts };
    if (!(await this.options.store.putDoc(this.collection, rollbackId, address, 0))) {
      // Another replica posted it first: keep theirs (ours becomes a harmless extra message).
      return this.address(rollbackId);
    }
    return address;
  }

  private get claims(): string {
    return `${this.collection}-claims`;
  }

  private async claim(id: string): Promise<boolean> {
    const { store } = this.options;
    const now = Date.now();
    if (await store.putDoc(this.claims, id, { at: now }, 0)) return true;
    const held = await store.getDoc<{ at: number }>(this.claims, id);
    if (held === null) return store.putDoc(this.claims, id, { at: now }, 0);
    return now - held.value.at > CLAIM_TTL_MS && store.putDoc(this.claims, id, { at: now }, held.version);
  }

  /** The address another replica is posting; an error (the effect is retried) if it takes too long. */
  private async waitForAddress(rollbackId: string): Promise<CardAddress> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    while (Date.now() < deadline) {
      const address = await this.address(rollbackId);
      if (address) return address;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`another replica is posting the message of ${rollbackId}; it will be retried`);
  }

  /** Redraws the card; concurrent requests for one card collapse into at most one more update. */
  refresh(rollbackId: string): Promise<void> {
    const running = this.refreshing.get(rollbackId);
    if (running) {
      this.dirty.add(rollbackId);
      return running;
    }
    const done = (async () => {
      try {
        do {
          this.dirty.delete(rollbackId);
          await this.redraw(rollbackId);
        } while (this.dirty.has(rollbackId));
      } finally {
        this.refreshing.delete(rollbackId);
      }
    })();
    this.refreshing.set(rollbackId, done);
    return done;
  }

  async reply(rollbackId: string, message: SlackMessage): Promise<void> {
    const card = await this.ensure(rollbackId);
    if (!card) return;
    await this.options.client.chat.postMessage({ channel: card.channel, thread_ts: card.ts, ...message });
  }

  private async redraw(rollbackId: string): Promise<void> {
    const card = await this.ensure(rollbackId);
    const drawn = await this.options.draw(rollbackId);
    if (!card || !drawn) return;
    await this.options.client.chat.update({ channel: card.channel, ts: card.ts, ...drawn.message });
  }
}
