/** views.open, views.update, views.publish: modals by trigger, App Home per user. */
import { assignIds, validateBlocks } from './block-rules.js';
import { obj, str, type Json, type JsonObject } from './json.js';
import { fail, jsonArg, type MethodContext, type MethodHandler } from './method-kit.js';
import type { SimView } from './workspace.js';

/** Slack lets an app open a modal with a trigger_id for 3 seconds, once. */
export const TRIGGER_LIFETIME_MS = 3_000;

export function viewJson(view: SimView, ctx: MethodContext): JsonObject {
  return {
    id: view.id,
    team_id: ctx.config.teamId,
    type: view.type,
    blocks: view.blocks,
    private_metadata: view.privateMetadata,
    callback_id: view.callbackId,
    state: { values: {} },
    hash: view.hash,
    title: view.title,
    clear_on_close: false,
    notify_on_close: false,
    close: view.close,
    submit: view.submit,
    previous_view_id: null,
    root_view_id: view.id,
    app_id: ctx.config.appId,
    external_id: view.externalId,
    app_installed_team_id: ctx.config.teamId,
    bot_id: ctx.config.botId,
  };
}

type Parsed = { ok: true; view: JsonObject; blocks: JsonObject[] } | { ok: false; reply: JsonObject };

function parseView(raw: Json | undefined, type: 'modal' | 'home', ctx: MethodContext): Parsed {
  const view = obj(jsonArg(raw));
  if (view === undefined)
    return { ok: false, reply: fail('invalid_arguments', ['[ERROR] missing required field: view']) };
  const problems: string[] = [];
  if (view.type !== type) problems.push(`[ERROR] must be ${type} [json-pointer:/view/type]`);
  const title = str(obj(view.title)?.text);
  if (type === 'modal' && title === undefined)
    problems.push('[ERROR] missing required field: title [json-pointer:/view/title]');
  if (title !== undefined && title.length > 24)
    problems.push('[ERROR] must be less than 25 characters [json-pointer:/view/title/text]');
  const verdict = validateBlocks(view.blocks ?? [], 100);
  if (!verdict.ok)
    problems.push(
      ...verdict.messages.map((m) => m.replace('json-pointer:/blocks', 'json-pointer:/view/blocks')),
    );
  if (problems.length > 0 || !verdict.ok) return { ok: false, reply: fail('invalid_arguments', problems) };
  return { ok: true, view, blocks: assignIds(verdict.blocks, () => ctx.ws.nextId('b')) };
}

function store(view: SimView, parsed: { view: JsonObject; blocks: JsonObject[] }, ctx: MethodContext): void {
  view.callbackId = str(parsed.view.callback_id) ?? '';
  view.privateMetadata = str(parsed.view.private_metadata) ?? '';
  view.externalId = str(parsed.view.external_id) ?? view.externalId;
  view.title = obj(parsed.view.title) ?? null;
  view.submit = obj(parsed.view.submit) ?? null;
  view.close = obj(parsed.view.close) ?? null;
  view.blocks = parsed.blocks;
  view.hash = `${Math.floor(ctx.config.now() / 1000)}.${ctx.ws.nextId()}`;
  view.versions.push({ ...parsed.view, blocks: parsed.blocks });
  ctx.ws.views.set(view.id, view);
}

function blankView(type: 'modal' | 'home', user: string, ctx: MethodContext): SimView {
  const view: SimView = {
    id: ctx.ws.nextId('V'),
    type,
    user,
    callbackId: '',
    privateMetadata: '',
    externalId: '',
    title: null,
    submit: null,
    close: null,
    blocks: [],
    hash: '',
    versions: [],
    open: true,
  };
  return view;
}

const open: MethodHandler = (args, ctx) => {
  const triggerId = str(args.trigger_id) ?? '';
  const trigger = ctx.ws.triggers.get(triggerId);
  if (trigger === undefined) return fail('invalid_trigger_id');
  if (trigger.used) return fail('exchanged_trigger_id');
  if (ctx.config.now() - trigger.issuedAt > TRIGGER_LIFETIME_MS) return fail('expired_trigger_id');
  const parsed = parseView(args.view, 'modal', ctx);
  if (!parsed.ok) return parsed.reply;
  trigger.used = true;
  const view = blankView('modal', trigger.user, ctx);
  store(view, parsed, ctx);
  return { ok: true, view: viewJson(view, ctx) };
};

const update: MethodHandler = (args, ctx) => {
  const viewId = str(args.view_id);
  const externalId = str(args.external_id);
  const view =
    viewId !== undefined
      ? ctx.ws.views.get(viewId)
      : [...ctx.ws.views.values()].find((v) => externalId !== undefined && v.externalId === externalId);
  if (view === undefined) return fail('not_found');
  const hash = str(args.hash);
  if (hash !== undefined && hash !== '' && hash !== view.hash) return fail('hash_conflict');
  const parsed = parseView(args.view, view.type, ctx);
  if (!parsed.ok) return parsed.reply;
  store(view, parsed, ctx);
  return { ok: true, view: viewJson(view, ctx) };
};

const publish: MethodHandler = (args, ctx) => {
  const user = str(args.user_id);
  if (user === undefined || !(user in ctx.config.users)) return fail('user_not_found');
  const parsed = parseView(args.view, 'home', ctx);
  if (!parsed.ok) return parsed.reply;
  const existing = ctx.ws.homeViews.get(user);
  const view =
    (existing === undefined ? undefined : ctx.ws.views.get(existing)) ?? blankView('home', user, ctx);
  store(view, parsed, ctx);
  ctx.ws.homeViews.set(user, view.id);
  return { ok: true, view: viewJson(view, ctx) };
};

export const viewMethods: Record<string, MethodHandler> = {
  'views.open': open,
  'views.update': update,
  'views.publish': publish,
};
