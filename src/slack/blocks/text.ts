/**
 * Text for Slack's mrkdwn: escaping, limit-safe truncation and the `<...>` tokens Slack expands
 * (user and user-group mentions, localised dates). Pure: no I/O, no clock.
 *
 * Everything a person typed (reasons, errors, check details, step names from plans) goes through
 * `escapeMrkdwn` before it joins a message, so `<!channel>` or `<@U1>` in a reason stays text.
 */

/** Escapes the three characters Slack's mrkdwn treats as control: `&`, `<`, `>`. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const ELLIPSIS = '…';

/** A cut that ends inside `&amp;`-style entity or a `<...>` token: cut before it instead. */
const OPEN_ENTITY = /&[a-zA-Z0-9#]*$/;
const OPEN_TOKEN = /<[^<>]*$/;

/**
 * At most `max` UTF-16 code units (Slack counts characters; code units are never fewer), ending
 * with `…` when cut. Never splits a surrogate pair, an `&amp;`-style entity or a `<...>` token.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let cut = text.slice(0, max - ELLIPSIS.length);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  cut = cut.replace(OPEN_ENTITY, '').replace(OPEN_TOKEN, '');
  return cut + ELLIPSIS;
}

/** Like `truncate` but keeps the end of the text (for logs, where the last lines matter). */
export function truncateStart(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let cut = text.slice(text.length - (max - ELLIPSIS.length));
  const first = cut.charCodeAt(0);
  if (first >= 0xdc00 && first <= 0xdfff) cut = cut.slice(1);
  // A leading fragment of an entity (`amp;`, `;`) or of a token (`...>`): drop it.
  cut = cut.replace(/^[a-z]*;/, (m) => (['amp;', 'lt;', 'gt;'].some((e) => e.endsWith(m)) ? '' : m));
  const close = cut.indexOf('>');
  if (close !== -1 && !cut.slice(0, close).includes('<')) cut = cut.slice(close + 1);
  return ELLIPSIS + cut;
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GROUP_ID = /^S[A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;

/**
 * Who did something, as the audit trail records it: a Slack user id becomes a mention; `policy`
 * (an automatic authorisation) and `system` (the bot itself) become words. Anything else is text.
 */
export function mention(by: string): string {
  if (by === 'policy') return '_the authority policy_';
  if (by === 'system') return '_rollback-bot_';
  return USER_ID.test(by) ? `<@${by}>` : escapeMrkdwn(by);
}

/** A user-group mention `<!subteam^S123>`; an id that is not one is shown as escaped text. */
export function groupMention(groupId: string): string {
  return GROUP_ID.test(groupId) ? `<!subteam^${groupId}>` : escapeMrkdwn(groupId);
}

/** A channel mention `<#C123>`; an id that is not a channel's is shown as escaped text. */
export function channelMention(channelId: string): string {
  return CHANNEL_ID.test(channelId) ? `<#${channelId}>` : escapeMrkdwn(channelId);
}

export const DATE_FORMATS = {
  /** `Nov 23, 2026 06:15:00 AM` in the reader's time zone. */
  full: '{date_short_pretty} {time_secs}',
  time: '{time}',
  timeSecs: '{time_secs}',
} as const;

/** The UTC fallback shown where Slack cannot localise: `2026-11-23 06:15:00 UTC`. */
export function utcText(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `<!date^unix^format|fallback>`: a time Slack shows in each reader's own time zone. */
export function slackDate(ms: number, format: string = DATE_FORMATS.full): string {
  return `<!date^${Math.floor(ms / 1_000)}^${format}|${utcText(ms)}>`;
}

/** `slackDate` of an ISO string as the view carries them; `null` gives `fallback`. */
export function slackDateIso(iso: string | null, format?: string, fallback = '—'): string {
  if (iso === null) return fallback;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? escapeMrkdwn(iso) : slackDate(ms, format);
}
