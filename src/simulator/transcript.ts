/**
 * A channel as a person reads it: top-level messages in their latest version (or the version current
 * at `now`), blocks flattened to text, thread replies indented under their parent, ephemerals marked.
 */
import { isObject, objects, str, textOf, type Json, type JsonObject } from './json.js';
import { compareTs, type SlackSimulator } from './web-api.js';
import type { SimEphemeral, SimMessage } from './workspace.js';

export interface TranscriptOptions {
  /** Render the channel as it stood at this moment (epoch ms or Date): later messages and edits left out. */
  now?: number | Date;
  /** Whose screen: only their ephemerals, shown as `(only you)`. Without it every ephemeral is shown with its user. */
  viewer?: string;
}

export function channelTranscript(
  sim: SlackSimulator,
  channel: string,
  options: TranscriptOptions = {},
): string {
  const nowMs = options.now === undefined ? Number.POSITIVE_INFINITY : new Date(options.now).getTime();
  const visible = (ts: string): boolean => tsMs(ts) <= nowMs;
  const ephemerals = sim
    .ephemerals({ channel, ...(options.viewer === undefined ? {} : { user: options.viewer }) })
    .filter((e) => visible(e.ts));
  const lines: string[] = [];
  type Entry = { ts: string; render: (indent: string) => void };
  const topLevel: Entry[] = [
    ...sim
      .messages(channel)
      .filter((m) => visible(m.ts))
      .map((m) => ({
        ts: m.ts,
        render: (indent: string) => {
          renderThread(m, indent);
        },
      })),
    ...ephemerals
      .filter((e) => e.threadTs === undefined)
      .map((e) => ({
        ts: e.ts,
        render: (i: string) => {
          renderEphemeral(e, i);
        },
      })),
  ].sort((a, b) => compareTs(a.ts, b.ts));

  function renderMessage(message: SimMessage, indent: string): void {
    const version =
      [...message.versions].reverse().find((v) => v.at.getTime() <= nowMs) ?? message.versions[0]!;
    const edited = message.versions.indexOf(version) > 0 ? ' (edited)' : '';
    const head = `${indent}${clock(message.ts)} ${authorName(sim, message.user)}${edited}:`;
    pushBody(lines, head, indent, bodyLines(version.text, version.blocks, version.attachments));
  }

  function renderEphemeral(e: SimEphemeral, indent: string): void {
    const who = options.viewer === undefined ? `only ${authorName(sim, e.user)}` : 'only you';
    const head = `${indent}${clock(e.ts)} (${who}) ${authorName(sim, sim.config.botUserId)}:`;
    pushBody(lines, head, indent, bodyLines(e.text, e.blocks, []));
  }

  function renderThread(message: SimMessage, indent: string): void {
    renderMessage(message, indent);
    const replies: Entry[] = [
      ...sim
        .replies(channel, message.ts)
        .filter((r) => visible(r.ts))
        .map((r) => ({
          ts: r.ts,
          render: (i: string) => {
            renderMessage(r, i);
          },
        })),
      ...ephemerals
        .filter((e) => e.threadTs === message.ts)
        .map((e) => ({
          ts: e.ts,
          render: (i: string) => {
            renderEphemeral(e, i);
          },
        })),
    ].sort((a, b) => compareTs(a.ts, b.ts));
    for (const reply of replies) reply.render(`${indent}    `);
  }

  for (const entry of topLevel) entry.render('');
  return lines.join('\n');
}

function pushBody(lines: string[], head: string, indent: string, rawBody: string[]): void {
  // A text with line breaks (a code block, a multi-line context) keeps the message's indent on each line.
  const body = rawBody.flatMap((line) => line.split('\n'));
  if (body.length === 1) lines.push(`${head} ${body[0]!}`);
  else lines.push(head, ...body.map((l) => `${indent}  ${l}`));
}

function authorName(sim: SlackSimulator, user: string): string {
  return sim.config.users[user]?.name ?? (user === sim.config.botUserId ? 'bot' : user);
}

function tsMs(ts: string): number {
  return Number(ts) * 1000;
}

/** HH:MM:SS (UTC) of a Slack ts. */
function clock(ts: string): string {
  return new Date(Math.floor(tsMs(ts))).toISOString().slice(11, 19);
}

/** The lines a message shows: its blocks flattened when it has any, else its text; attachments after. */
export function bodyLines(text: string, blocks: JsonObject[], attachments: JsonObject[]): string[] {
  const lines = blocks.length > 0 ? blocks.flatMap(blockLines) : text.split('\n');
  for (const attachment of attachments) {
    const content = str(attachment.text) ?? str(attachment.fallback) ?? '';
    lines.push(
      ...objects(attachment.blocks)
        .flatMap(blockLines)
        .map((l) => `| ${l}`),
    );
    if (content !== '') lines.push(...content.split('\n').map((l) => `| ${l}`));
  }
  return lines.length === 0 ? [''] : lines;
}

function blockLines(block: JsonObject): string[] {
  switch (block.type) {
    case 'header':
      return [`# ${textOf(block.text)}`];
    case 'section': {
      const lines = textOf(block.text) === '' ? [] : textOf(block.text).split('\n');
      // A field is a cell: its own line breaks become spaces so the row stays one line.
      const fields = objects(block.fields).map((f) => (str(f.text) ?? '').replace(/\s*\n\s*/g, ' '));
      if (fields.length > 0) lines.push(fields.join(' | '));
      if (isObject(block.accessory)) lines.push(elementText(block.accessory));
      return lines;
    }
    case 'context':
      return [
        objects(block.elements)
          .map((e) => str(e.text) ?? `[image: ${str(e.alt_text) ?? ''}]`)
          .join(' · '),
      ];
    case 'actions':
      return [objects(block.elements).map(elementText).join(' ')];
    case 'divider':
      return ['---'];
    case 'image':
      return [`[image: ${str(block.alt_text) ?? ''}]`];
    case 'input':
      return [`${textOf(block.label)}: ${isObject(block.element) ? elementText(block.element) : ''}`];
    default:
      return [richText(block)].filter((l) => l !== '');
  }
}

function elementText(element: JsonObject): string {
  if (element.type === 'button') return `[${textOf(element.text)}]`;
  const placeholder = textOf(element.placeholder);
  return `[${str(element.type) ?? 'element'}${placeholder === '' ? '' : `: ${placeholder}`}]`;
}

/** Text anywhere inside a rich_text (or unknown) block. */
function richText(node: Json): string {
  if (Array.isArray(node)) return node.map(richText).join('');
  if (!isObject(node)) return '';
  if (typeof node.text === 'string') return node.text;
  return richText(node.elements ?? null);
}
