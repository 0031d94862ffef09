/** chat.postMessage, chat.update, chat.delete, chat.postEphemeral over the workspace. */
import { str, type JsonObject } from './json.js';
import { fail, knownChannel, readContent, type MethodContext, type MethodHandler } from './method-kit.js';
import type { SimMessage } from './workspace.js';

/** A message as Slack returns it in `chat.postMessage` / `chat.update` responses. */
export function messageJson(message: SimMessage, ctx: MethodContext): JsonObject {
  const json: JsonObject = {
    type: 'message',
    user: message.user,
    bot_id: message.botId,
    app_id: ctx.config.appId,
    text: message.text,
    ts: message.ts,
    team: ctx.config.teamId,
    blocks: message.blocks,
  };
  if (message.attachments.length > 0) json.attachments = message.attachments;
  if (message.threadTs !== undefined) {
    json.thread_ts = message.threadTs;
    json.parent_user_id = ctx.ws.messages.get(ctx.ws.key(message.channel, message.threadTs))?.user ?? null;
  } else if (message.replies.length > 0) {
    json.thread_ts = message.ts;
    json.reply_count = message.replies.length;
    json.latest_reply = message.replies[message.replies.length - 1]!;
  }
  if (message.versions.length > 1) {
    json.edited = {
      user: message.user,
      ts: message.versions[message.versions.length - 1]!.at.getTime() / 1000,
    };
  }
  return json;
}

const postMessage: MethodHandler = (args, ctx) => {
  const channel = knownChannel(args, ctx);
  if (channel === undefined) return fail('channel_not_found');
  const verdict = readContent(args, ctx);
  if (!verdict.ok) return verdict.reply;
  let threadTs = str(args.thread_ts);
  if (threadTs !== undefined && threadTs !== '') {
    const parent = ctx.ws.message(channel, threadTs);
    if (parent === undefined) return fail('thread_not_found');
    // A reply's ts names its parent's thread, as in Slack.
    threadTs = parent.threadTs ?? parent.ts;
  } else {
    threadTs = undefined;
  }
  const ts = ctx.ws.nextTs();
  const message: SimMessage = {
    channel,
    ts,
    ...(threadTs === undefined ? {} : { threadTs }),
    user: ctx.config.botUserId,
    botId: ctx.config.botId,
    ...verdict.content,
    versions: [{ ...verdict.content, at: new Date(ctx.config.now()), via: 'chat.postMessage' }],
    replies: [],
    deleted: false,
  };
  ctx.ws.addMessage(message);
  return { ok: true, channel, ts, message: messageJson(message, ctx) };
};

const update: MethodHandler = (args, ctx) => {
  const channel = knownChannel(args, ctx);
  if (channel === undefined) return fail('channel_not_found');
  const message = ctx.ws.message(channel, str(args.ts) ?? '');
  if (message === undefined) return fail('message_not_found');
  if (message.user !== ctx.config.botUserId) return fail('cant_update_message');
  // chat.update keeps what the call leaves out: omitted blocks stay, omitted text stays.
  const merged: JsonObject = {
    text: args.text ?? message.text,
    blocks: args.blocks ?? message.blocks,
    attachments: args.attachments ?? message.attachments,
  };
  const verdict = readContent(merged, ctx);
  if (!verdict.ok) return verdict.reply;
  ctx.ws.revise(message, { ...verdict.content, via: 'chat.update' });
  return { ok: true, channel, ts: message.ts, text: message.text, message: messageJson(message, ctx) };
};

const remove: MethodHandler = (args, ctx) => {
  const channel = knownChannel(args, ctx);
  if (channel === undefined) return fail('channel_not_found');
  const message = ctx.ws.message(channel, str(args.ts) ?? '');
  if (message === undefined) return fail('message_not_found');
  if (message.user !== ctx.config.botUserId) return fail('cant_delete_message');
  message.deleted = true;
  return { ok: true, channel, ts: message.ts };
};

const postEphemeral: MethodHandler = (args, ctx) => {
  const channel = knownChannel(args, ctx);
  if (channel === undefined) return fail('channel_not_found');
  const user = str(args.user);
  if (user === undefined || !(user in ctx.config.users)) return fail('user_not_in_channel');
  const verdict = readContent(args, ctx);
  if (!verdict.ok) return verdict.reply;
  const ts = ctx.ws.nextTs();
  const threadTs = str(args.thread_ts);
  ctx.ws.ephemerals.push({
    channel,
    user,
    ts,
    ...(threadTs === undefined || threadTs === '' ? {} : { threadTs }),
    text: verdict.content.text,
    blocks: verdict.content.blocks,
    via: 'chat.postEphemeral',
    gone: false,
  });
  return { ok: true, message_ts: ts };
};

export const chatMethods: Record<string, MethodHandler> = {
  'chat.postMessage': postMessage,
  'chat.update': update,
  'chat.delete': remove,
  'chat.postEphemeral': postEphemeral,
};
