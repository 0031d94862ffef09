/**
 * What the simulated workspace holds: messages with their threads and edit history, ephemerals, views,
 * App Home tabs, response_url posts and trigger ids. The Web API handlers and the driver both work on it.
 */
import type { JsonObject } from './json.js';

export interface MessageVersion {
  text: string;
  blocks: JsonObject[];
  attachments: JsonObject[];
  at: Date;
  /** The call that produced this version: `chat.postMessage`, `chat.update`, `response_url`. */
  via: string;
}

export interface SimMessage {
  channel: string;
  ts: string;
  /** Set on thread replies: the parent's ts. */
  threadTs?: string;
  user: string;
  botId: string;
  text: string;
  blocks: JsonObject[];
  attachments: JsonObject[];
  /** Every version, oldest first; the last one is what people see. */
  versions: MessageVersion[];
  /** ts of the replies, oldest first (top-level messages only). */
  replies: string[];
  deleted: boolean;
}

export interface SimEphemeral {
  channel: string;
  user: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks: JsonObject[];
  via: 'chat.postEphemeral' | 'response_url';
  /** Replaced or deleted through a response_url; no longer on the user's screen. */
  gone: boolean;
}

export interface SimView {
  id: string;
  type: 'modal' | 'home';
  user: string;
  callbackId: string;
  privateMetadata: string;
  externalId: string;
  title: JsonObject | null;
  submit: JsonObject | null;
  close: JsonObject | null;
  blocks: JsonObject[];
  hash: string;
  /** Every view payload the bot sent for it (open, update, publish, response_action update). */
  versions: JsonObject[];
  open: boolean;
}

/** A POST to a response_url the driver handed to the bot, with the fields Slack reads from it. */
export interface ResponseUrlPost {
  id: string;
  at: Date;
  channel: string;
  user: string;
  response_type: 'ephemeral' | 'in_channel';
  text: string;
  blocks: JsonObject[];
  replace_original: boolean;
  delete_original: boolean;
  thread_ts?: string;
}

export interface ResponseUrlTarget {
  channel: string;
  user: string;
  /** The message the interaction came from (block_actions), for replace_original / delete_original. */
  messageTs?: string;
  ephemeral?: boolean;
}

export class Workspace {
  readonly messages = new Map<string, SimMessage>();
  readonly ephemerals: SimEphemeral[] = [];
  readonly views = new Map<string, SimView>();
  readonly homeViews = new Map<string, string>();
  readonly responseUrls = new Map<string, ResponseUrlTarget>();
  readonly responsePosts: ResponseUrlPost[] = [];
  readonly triggers = new Map<string, { user: string; issuedAt: number; used: boolean }>();
  private lastTsMicros = 0n;
  private counter = 0;

  constructor(readonly now: () => number) {}

  /** Slack's ts: seconds and microseconds, strictly increasing across the workspace. */
  nextTs(): string {
    const micros = BigInt(Math.floor(this.now())) * 1000n;
    this.lastTsMicros = micros > this.lastTsMicros ? micros : this.lastTsMicros + 1n;
    const seconds = this.lastTsMicros / 1_000_000n;
    const rest = this.lastTsMicros % 1_000_000n;
    return `${seconds}.${rest.toString().padStart(6, '0')}`;
  }

  /** Short ids for generated block_ids, view ids, trigger ids. */
  nextId(prefix = ''): string {
    this.counter += 1;
    return `${prefix}${this.counter.toString(36).toUpperCase().padStart(6, '0')}`;
  }

  key(channel: string, ts: string): string {
    return `${channel}/${ts}`;
  }

  message(channel: string, ts: string): SimMessage | undefined {
    const found = this.messages.get(this.key(channel, ts));
    return found?.deleted === false ? found : undefined;
  }

  addMessage(message: SimMessage): void {
    this.messages.set(this.key(message.channel, message.ts), message);
    if (message.threadTs !== undefined)
      this.messages.get(this.key(message.channel, message.threadTs))?.replies.push(message.ts);
  }

  revise(message: SimMessage, version: Omit<MessageVersion, 'at'>): void {
    message.text = version.text;
    message.blocks = version.blocks;
    message.attachments = version.attachments;
    message.versions.push({ ...version, at: new Date(this.now()) });
  }

  issueTrigger(user: string): string {
    const id = `${this.nextId()}.${this.nextId()}.${this.nextId('T')}`.toLowerCase();
    this.triggers.set(id, { user, issuedAt: this.now(), used: false });
    return id;
  }
}
