/** Finding the buttons people can click: in the latest version of each message, and in their ephemerals. */
import { isObject, objects, str, textOf, type JsonObject } from './json.js';
import type { SlackSimulator } from './web-api.js';
import type { SimMessage } from './workspace.js';

export interface FoundButton {
  channel: string;
  messageTs: string;
  threadTs?: string;
  ephemeral: boolean;
  blockId: string;
  actionId: string;
  value?: string;
  text: string;
  style?: string;
  /** The message it sits in (not set for ephemerals: Slack sends no message for them). */
  message?: SimMessage;
}

export interface ButtonQuery {
  user: string;
  actionId: string;
  value?: string | ((value: string | undefined) => boolean);
  messageTs?: string;
  channel?: string;
}

export function buttonsIn(blocks: JsonObject[]): Omit<FoundButton, 'channel' | 'messageTs' | 'ephemeral'>[] {
  const found: Omit<FoundButton, 'channel' | 'messageTs' | 'ephemeral'>[] = [];
  for (const block of blocks) {
    const elements = [...objects(block.elements), ...(isObject(block.accessory) ? [block.accessory] : [])];
    for (const element of elements) {
      if (element.type !== 'button') continue;
      const value = str(element.value);
      const style = str(element.style);
      found.push({
        blockId: str(block.block_id) ?? '',
        actionId: str(element.action_id) ?? '',
        ...(value === undefined ? {} : { value }),
        ...(style === undefined ? {} : { style }),
        text: textOf(element.text),
      });
    }
  }
  return found;
}

/** Every button `user` can see, oldest message first. */
export function visibleButtons(sim: SlackSimulator, user: string): FoundButton[] {
  const fromMessages = sim.allMessages().flatMap((message) =>
    buttonsIn(message.blocks).map((b) => ({
      ...b,
      channel: message.channel,
      messageTs: message.ts,
      ...(message.threadTs === undefined ? {} : { threadTs: message.threadTs }),
      ephemeral: false,
      message,
    })),
  );
  const fromEphemerals = sim.ephemerals({ user }).flatMap((e) =>
    buttonsIn(e.blocks).map((b) => ({
      ...b,
      channel: e.channel,
      messageTs: e.ts,
      ...(e.threadTs === undefined ? {} : { threadTs: e.threadTs }),
      ephemeral: true,
    })),
  );
  return [...fromMessages, ...fromEphemerals];
}

/** The most recent matching button, or an error listing the buttons there are. */
export function findButton(sim: SlackSimulator, query: ButtonQuery): FoundButton {
  const all = visibleButtons(sim, query.user);
  const matches = all.filter(
    (b) =>
      b.actionId === query.actionId &&
      (query.channel === undefined || b.channel === query.channel) &&
      (query.messageTs === undefined || b.messageTs === query.messageTs) &&
      (query.value === undefined ||
        (typeof query.value === 'function' ? query.value(b.value) : b.value === query.value)),
  );
  const found = matches.at(-1);
  if (found !== undefined) return found;
  const listing = all.map(
    (b) =>
      `  ${b.actionId} value=${JSON.stringify(b.value ?? null)} [${b.text}] in ${b.channel} ts=${b.messageTs}${b.ephemeral ? ' (ephemeral)' : ''}`,
  );
  throw new Error(
    `No button ${query.actionId}${typeof query.value === 'string' ? ` with value ${JSON.stringify(query.value)}` : ''} visible to ${query.user}` +
      `${query.channel === undefined ? '' : ` in ${query.channel}`}${query.messageTs === undefined ? '' : ` on message ${query.messageTs}`}. ` +
      (listing.length === 0 ? 'There are no buttons.' : `Buttons there are:\n${listing.join('\n')}`),
  );
}
