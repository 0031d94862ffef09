/** What every Web API method handler shares: its signature, error replies and content parsing. */
import { assignIds, validateBlocks } from './block-rules.js';
import type { SimulatorConfig } from './config.js';
import { objects, parseJson, str, type Json, type JsonObject } from './json.js';
import type { Workspace } from './workspace.js';

export interface MethodContext {
  ws: Workspace;
  config: SimulatorConfig;
}

export type MethodHandler = (args: JsonObject, ctx: MethodContext) => JsonObject;

export function fail(error: string, messages?: string[]): JsonObject {
  return messages === undefined
    ? { ok: false, error }
    : { ok: false, error, response_metadata: { messages } };
}

/** Form bodies carry `blocks`, `view` and `attachments` as JSON strings; JSON bodies carry them as is. */
export function jsonArg(value: Json | undefined): Json | undefined {
  return typeof value === 'string' ? parseJson(value) : value;
}

export interface Content {
  text: string;
  blocks: JsonObject[];
  attachments: JsonObject[];
}

export const MAX_TEXT = 40_000;

/** text / blocks / attachments of a chat.* call, validated as Slack does; an error reply otherwise. */
export type ContentVerdict = { ok: true; content: Content } | { ok: false; reply: JsonObject };

export function readContent(args: JsonObject, ctx: MethodContext): ContentVerdict {
  const refuse = (error: string, messages?: string[]): ContentVerdict => ({
    ok: false,
    reply: fail(error, messages),
  });
  const text = str(args.text) ?? '';
  if (text.length > MAX_TEXT) return refuse('msg_too_long');
  let blocks: JsonObject[] = [];
  if (args.blocks !== undefined && args.blocks !== '') {
    const verdict = validateBlocks(jsonArg(args.blocks), 50);
    if (!verdict.ok) return refuse(verdict.error, verdict.messages);
    blocks = assignIds(verdict.blocks, () => ctx.ws.nextId('b'));
  }
  const attachmentsArg = jsonArg(args.attachments);
  if (args.attachments !== undefined && !Array.isArray(attachmentsArg)) return refuse('invalid_attachments');
  const attachments = objects(attachmentsArg);
  if (text === '' && blocks.length === 0 && attachments.length === 0) return refuse('no_text');
  return { ok: true, content: { text, blocks, attachments } };
}

export function knownChannel(args: JsonObject, ctx: MethodContext): string | undefined {
  const channel = str(args.channel);
  return channel !== undefined && ctx.config.channels.includes(channel) ? channel : undefined;
}

export function bool(value: Json | undefined): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}
