/**
 * response_url posts: Slack shows `ephemeral` (the default) to the user, posts `in_channel` into the
 * channel, and applies `replace_original` / `delete_original` to the message the interaction came from.
 */
import { assignIds, validateBlocks } from './block-rules.js';
import type { SimulatorConfig } from './config.js';
import { objects, str, type JsonObject } from './json.js';
import { bool } from './method-kit.js';
import type { ResponseUrlPost, ResponseUrlTarget, SimMessage, Workspace } from './workspace.js';

export type ResponseOutcome =
  { ok: true; post: ResponseUrlPost } | { ok: false; status: number; error: string };

export function applyResponse(
  ws: Workspace,
  config: SimulatorConfig,
  id: string,
  target: ResponseUrlTarget,
  body: JsonObject,
): ResponseOutcome {
  const text = str(body.text) ?? '';
  let blocks: JsonObject[] = [];
  if (body.blocks !== undefined) {
    const verdict = validateBlocks(body.blocks, 50);
    if (!verdict.ok) return { ok: false, status: 400, error: verdict.error };
    blocks = assignIds(objects(verdict.blocks), () => ws.nextId('b'));
  }
  const deleteOriginal = bool(body.delete_original);
  if (text === '' && blocks.length === 0 && !deleteOriginal)
    return { ok: false, status: 400, error: 'no_text' };
  const threadTs = str(body.thread_ts);
  const post: ResponseUrlPost = {
    id,
    at: new Date(config.now()),
    channel: target.channel,
    user: target.user,
    response_type: body.response_type === 'in_channel' ? 'in_channel' : 'ephemeral',
    text,
    blocks,
    replace_original: bool(body.replace_original),
    delete_original: deleteOriginal,
    ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
  };
  const original = target.messageTs === undefined ? undefined : ws.message(target.channel, target.messageTs);
  const originalEphemeral =
    target.ephemeral === true ? ws.ephemerals.find((e) => e.ts === target.messageTs) : undefined;
  if (post.delete_original) {
    if (original !== undefined && target.ephemeral !== true) original.deleted = true;
    if (originalEphemeral !== undefined) originalEphemeral.gone = true;
  } else if (post.replace_original && original !== undefined && target.ephemeral !== true) {
    ws.revise(original, { text, blocks, attachments: [], via: 'response_url' });
  } else if (post.response_type === 'in_channel') {
    postInChannel(ws, config, post);
  } else {
    if (post.replace_original && originalEphemeral !== undefined) originalEphemeral.gone = true;
    ws.ephemerals.push({
      channel: post.channel,
      user: post.user,
      ts: ws.nextTs(),
      ...(threadTs === undefined ? {} : { threadTs }),
      text,
      blocks,
      via: 'response_url',
      gone: false,
    });
  }
  ws.responsePosts.push(post);
  return { ok: true, post };
}

function postInChannel(ws: Workspace, config: SimulatorConfig, post: ResponseUrlPost): void {
  const parent = post.thread_ts === undefined ? undefined : ws.message(post.channel, post.thread_ts);
  const message: SimMessage = {
    channel: post.channel,
    ts: ws.nextTs(),
    ...(parent === undefined ? {} : { threadTs: parent.threadTs ?? parent.ts }),
    user: config.botUserId,
    botId: config.botId,
    text: post.text,
    blocks: post.blocks,
    attachments: [],
    versions: [{ text: post.text, blocks: post.blocks, attachments: [], at: post.at, via: 'response_url' }],
    replies: [],
    deleted: false,
  };
  ws.addMessage(message);
}
