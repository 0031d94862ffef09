/**
 * The simulated channel as HTML, as a person reads it in Slack: top-level messages in their latest
 * version, each thread's replies under its parent, the viewer's ephemerals marked as only theirs,
 * Block Kit drawn (sections, fields, context, buttons, dividers) and mrkdwn formatted. Buttons carry
 * what the web server needs to click them through the driver; their `confirm` dialogs ride along
 * in a `<template>`. All text goes through mrkdwn.ts, which escapes it.
 */
import type { SimulatorConfig } from '../config.js';
import { isObject, obj, objects, str, textOf, type Json, type JsonObject } from '../json.js';
import { compareTs, type SlackSimulator } from '../web-api.js';
import type { SimEphemeral, SimMessage } from '../workspace.js';
import { clockOf, escapeHtml, mrkdwnHtml, plainHtml, type NameDirectory } from './mrkdwn.js';

export interface RenderContext {
  names: NameDirectory;
  /** Who the bot's messages are shown from. */
  botName: string;
}

export function renderContext(config: SimulatorConfig, botName: string): RenderContext {
  return {
    names: {
      user: (id) => config.users[id]?.real_name ?? config.users[id]?.name ?? id,
      channel: (id) => config.channelNames[id] ?? id.toLowerCase(),
    },
    botName,
  };
}

/**
 * Where a block sits: what a click on one of its buttons names (the driver finds the button by it,
 * in the bot's messages and the clicker's ephemerals).
 */
interface Place {
  channel: string;
  ts: string;
}

/** A composition text object (`plain_text` or `mrkdwn`) as HTML. */
export function textObjectHtml(value: Json | undefined, ctx: RenderContext): string {
  const text = obj(value);
  if (text === undefined) return '';
  const content = str(text.text) ?? '';
  return text.type === 'mrkdwn' ? mrkdwnHtml(content, ctx.names) : plainHtml(content);
}

export function blocksHtml(blocks: JsonObject[], ctx: RenderContext, place: Place): string {
  return blocks.map((block) => blockHtml(block, ctx, place)).join('');
}

function blockHtml(block: JsonObject, ctx: RenderContext, place: Place): string {
  switch (block.type) {
    case 'header':
      return `<h3 class="b-header">${textObjectHtml(block.text, ctx)}</h3>`;
    case 'section': {
      const parts: string[] = [];
      if (textOf(block.text) !== '')
        parts.push(`<div class="b-text">${textObjectHtml(block.text, ctx)}</div>`);
      const fields = objects(block.fields);
      if (fields.length > 0)
        parts.push(
          `<div class="b-fields">${fields.map((f) => `<div>${textObjectHtml(f, ctx)}</div>`).join('')}</div>`,
        );
      const accessory = isObject(block.accessory)
        ? `<div class="b-accessory">${elementHtml(block.accessory, ctx, place)}</div>`
        : '';
      return `<section class="b-section">${parts.join('')}${accessory}</section>`;
    }
    case 'context':
      return `<div class="b-context">${objects(block.elements)
        .map((e) =>
          e.type === 'image'
            ? `<span class="b-image">[${escapeHtml(str(e.alt_text) ?? 'image')}]</span>`
            : `<span>${textObjectHtml(e, ctx)}</span>`,
        )
        .join(' · ')}</div>`;
    case 'actions':
      return `<div class="b-actions">${objects(block.elements)
        .map((e) => elementHtml(e, ctx, place))
        .join('')}</div>`;
    case 'divider':
      return '<hr>';
    case 'image':
      return `<div class="b-image">[image: ${escapeHtml(str(block.alt_text) ?? '')}]</div>`;
    case 'input':
      return `<div class="b-input">${textObjectHtml(block.label, ctx)}: ${
        isObject(block.element) ? elementHtml(block.element, ctx, place) : ''
      }</div>`;
    case 'markdown':
      return `<div class="b-text">${plainHtml(str(block.text) ?? '')}</div>`;
    case 'rich_text':
      return `<div class="b-text">${plainHtml(richText(block))}</div>`;
    default:
      return `<div class="b-unknown">[${escapeHtml(str(block.type) ?? 'unknown')} block]</div>`;
  }
}

function elementHtml(element: JsonObject, ctx: RenderContext, place: Place): string {
  if (element.type !== 'button') {
    const placeholder = textOf(element.placeholder);
    const what = `${str(element.type) ?? 'element'}${placeholder === '' ? '' : `: ${placeholder}`}`;
    return `<span class="el-other" title="not clickable in this page">[${escapeHtml(what)}]</span>`;
  }
  const style = element.style === 'primary' || element.style === 'danger' ? ` ${element.style}` : '';
  const label = textObjectHtml(element.text, ctx);
  const url = str(element.url);
  if (url !== undefined && /^https?:\/\//i.test(url))
    return `<a class="btn${style}" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
  const data: Record<string, string | undefined> = {
    channel: place.channel,
    ts: place.ts,
    'action-id': str(element.action_id) ?? '',
    value: str(element.value),
  };
  const attributes = Object.entries(data)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join('');
  const button = `<button type="button" class="btn${style}"${attributes}>${label}</button>`;
  const confirm = obj(element.confirm);
  if (confirm === undefined) return button;
  return `<span class="btn-wrap">${button}<template class="confirm"><h4>${textObjectHtml(confirm.title, ctx)}</h4><div class="confirm-text">${textObjectHtml(confirm.text, ctx)}</div><span data-yes>${textObjectHtml(confirm.confirm, ctx) || 'Confirm'}</span><span data-no>${textObjectHtml(confirm.deny, ctx) || 'Cancel'}</span></template></span>`;
}

function richText(node: Json): string {
  if (Array.isArray(node)) return node.map(richText).join('');
  if (!isObject(node)) return '';
  if (typeof node.text === 'string') return node.text;
  return richText(node.elements ?? null);
}

/** A message's body: its blocks when it has any, else its mrkdwn text; attachments after. */
export function bodyHtml(
  content: { text: string; blocks: JsonObject[]; attachments: JsonObject[] },
  ctx: RenderContext,
  place: Place,
): string {
  const main =
    content.blocks.length > 0
      ? blocksHtml(content.blocks, ctx, place)
      : `<div class="b-text">${mrkdwnHtml(content.text, ctx.names)}</div>`;
  const attachments = content.attachments.map((a) => {
    const text = str(a.text) ?? str(a.fallback) ?? '';
    const inner = `${blocksHtml(objects(a.blocks), ctx, place)}${
      text === '' ? '' : `<div class="b-text">${mrkdwnHtml(text, ctx.names)}</div>`
    }`;
    return `<div class="attachment">${inner}</div>`;
  });
  return main + attachments.join('');
}

function tsMs(ts: string): number {
  return Math.floor(Number(ts) * 1_000);
}

function messageHtml(message: SimMessage, ctx: RenderContext, thread: string): string {
  const author = ctx.names.user(message.user);
  const edited = message.versions.length > 1 ? ' <span class="edited">(edited)</span>' : '';
  const body = bodyHtml(message, ctx, { channel: message.channel, ts: message.ts });
  return (
    `<article class="msg" data-ts="${escapeHtml(message.ts)}">` +
    `<header><span class="author">${escapeHtml(author)}</span> <time>${clockOf(tsMs(message.ts))}</time>${edited}</header>` +
    `<div class="body">${body}</div>${thread}</article>`
  );
}

function ephemeralHtml(e: SimEphemeral, ctx: RenderContext): string {
  const body = bodyHtml({ ...e, attachments: [] }, ctx, { channel: e.channel, ts: e.ts });
  return (
    `<article class="msg ephemeral" data-ts="${escapeHtml(e.ts)}">` +
    `<header><span class="author">${escapeHtml(ctx.botName)}</span> <time>${clockOf(tsMs(e.ts))}</time> <span class="only-you">Only visible to you</span></header>` +
    `<div class="body">${body}</div></article>`
  );
}

/**
 * The channel as `viewer` sees it: messages and threads, and the ephemerals only they see. The bot
 * user is shown as `ctx.botName` unless the simulator's users name it.
 */
export function renderChannel(
  sim: SlackSimulator,
  channel: string,
  viewer: string,
  ctx: RenderContext,
): string {
  const bot = sim.config.botUserId;
  const named: RenderContext = {
    ...ctx,
    names: {
      ...ctx.names,
      user: (id) => (id === bot && !(bot in sim.config.users) ? ctx.botName : ctx.names.user(id)),
    },
  };
  const ephemerals = sim.ephemerals({ channel, user: viewer });
  const messages = sim.messages(channel);
  const parents = new Set(messages.map((m) => m.ts));
  type Entry = { ts: string; html: () => string };
  const threadOf = (message: SimMessage): string => {
    const replies = sim.replies(channel, message.ts);
    const entries: Entry[] = [
      ...replies.map((r) => ({ ts: r.ts, html: () => messageHtml(r, named, '') })),
      ...ephemerals
        .filter((e) => e.threadTs === message.ts)
        .map((e) => ({ ts: e.ts, html: () => ephemeralHtml(e, named) })),
    ].sort((a, b) => compareTs(a.ts, b.ts));
    if (entries.length === 0) return '';
    // Slack counts the replies everyone sees, not the viewer's ephemerals.
    const count = replies.length === 0 ? '' : replies.length === 1 ? '1 reply' : `${replies.length} replies`;
    return `<div class="thread"><div class="thread-count">${count}</div>${entries.map((e) => e.html()).join('')}</div>`;
  };
  const top: Entry[] = [
    ...messages.map((m) => ({ ts: m.ts, html: () => messageHtml(m, named, threadOf(m)) })),
    ...ephemerals
      .filter((e) => e.threadTs === undefined || !parents.has(e.threadTs))
      .map((e) => ({ ts: e.ts, html: () => ephemeralHtml(e, named) })),
  ].sort((a, b) => compareTs(a.ts, b.ts));
  if (top.length === 0)
    return `<p class="empty">No messages in #${escapeHtml(ctx.names.channel(channel))} yet.</p>`;
  return top.map((e) => e.html()).join('');
}
