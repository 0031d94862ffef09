/**
 * The shape of a Slack request body, checked before Bolt sees it. Bolt reads fields of a payload
 * as it routes it, before any listener or middleware of ours runs: a payload that is `null`, or a
 * button whose `action_id` is not text, made it throw (the `null` one outside any handler, which
 * ends the process). Slack never sends such bodies, but whoever holds the signing secret can, and a
 * rollback bot must not go down on one. So the fields Bolt and the listeners rely on are parsed here
 * (the rest of each payload is let through as it is), and a body that does not hold is refused with
 * 400 and a sentence. Payload types the bot does not handle pass unchecked: Bolt ignores them. Pure.
 */
import { parse as parseQuery } from 'node:querystring';
import { z } from 'zod';

const id = z.string().min(1).max(255);
const text = z.string().max(4_000);
/** `{ id, ... }` objects such as `user`, `team`, `channel` (Slack sends `null` for some). */
const named = z.looseObject({ id: id.optional() });

const user = z.looseObject({ id, team_id: z.string().optional() });
const action = z.looseObject({
  action_id: id,
  block_id: id.optional(),
  type: z.string().optional(),
  value: z.string().max(2_000).optional(),
  action_ts: z.string().max(64).optional(),
});
const interaction = {
  user,
  team: named.nullable().optional(),
  enterprise: named.nullable().optional(),
  channel: named.nullable().optional(),
  container: z.looseObject({}).nullable().optional(),
  trigger_id: id.optional(),
  response_url: z.string().max(2_000).optional(),
};

const blockActions = z.looseObject({
  type: z.literal('block_actions'),
  ...interaction,
  actions: z.array(action).min(1).max(25),
});

const viewPayload = z.looseObject({
  type: z.enum(['view_submission', 'view_closed']),
  ...interaction,
  view: z.looseObject({
    id,
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3_000).optional(),
    state: z
      .looseObject({ values: z.record(z.string(), z.record(z.string(), z.looseObject({}))) })
      .optional(),
  }),
});

const shortcut = z.looseObject({
  type: z.enum(['shortcut', 'message_action']),
  ...interaction,
  callback_id: z.string().max(255),
});

const eventCallback = z.looseObject({
  type: z.literal('event_callback'),
  team_id: z.string().optional(),
  event_id: z.string().optional(),
  event: z.looseObject({ type: z.string().min(1).max(255), user: z.string().optional() }),
});

const urlVerification = z.looseObject({ type: z.literal('url_verification'), challenge: z.string() });

const SCHEMAS: Record<string, z.ZodType> = {
  block_actions: blockActions,
  view_submission: viewPayload,
  view_closed: viewPayload,
  shortcut,
  message_action: shortcut,
  event_callback: eventCallback,
  url_verification: urlVerification,
};

/** A slash command's form fields (or Slack's `ssl_check` ping). */
const slashCommand = z.looseObject({
  command: z.string().min(1).max(255),
  text: text.optional(),
  user_id: id,
  channel_id: id,
  trigger_id: id.optional(),
  response_url: z.string().max(2_000).optional(),
});

/**
 * The body as Bolt parses it: a form's `payload` JSON (interactions), the form itself (a slash
 * command, or Slack's `ssl_check` ping), else the JSON body (events).
 */
function parsedBody(
  contentType: string,
  raw: string,
): { ok: true; body: unknown; fields: boolean } | { ok: false } {
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      const form = parseQuery(raw);
      const payload = form['payload'];
      return typeof payload === 'string'
        ? { ok: true, body: JSON.parse(payload) as unknown, fields: false }
        : { ok: true, body: form, fields: true };
    }
    return { ok: true, body: JSON.parse(raw) as unknown, fields: false };
  } catch {
    // Bolt refuses a body it cannot parse itself, with 400.
    return { ok: false };
  }
}

/** Why Bolt must not be handed this body, or null when it may. */
export function slackPayloadProblem(contentType: string | undefined, raw: string): string | null {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const parsed = parsedBody(type, raw);
  if (!parsed.ok) return null;
  const body = parsed.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return 'a Slack payload is a JSON object';
  }
  const record = body as Record<string, unknown>;
  if (parsed.fields) {
    return record['ssl_check'] !== undefined ? null : problemOf(slashCommand, body, 'a slash command');
  }
  const kind = record['type'];
  const schema = typeof kind === 'string' ? SCHEMAS[kind] : undefined;
  return schema === undefined ? null : problemOf(schema, body, `a ${kind as string} payload`);
}

function problemOf(schema: z.ZodType, body: unknown, what: string): string | null {
  const result = schema.safeParse(body);
  if (result.success) return null;
  const issue = result.error.issues[0];
  const where = issue?.path.map(String).join('.') ?? '';
  return `${what} must have ${where === '' ? 'the fields Slack sends' : `a valid \`${where}\``} (${issue?.message ?? 'malformed'})`;
}
