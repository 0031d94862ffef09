/**
 * Slack's mrkdwn as HTML, for the simulator's web view. Every character of the message reaches the
 * page escaped: the text is untrusted (alert summaries, reasons, step output), so only the markup
 * this module writes itself is markup. Links keep only http(s) and mailto targets.
 */

export interface NameDirectory {
  /** The name people see for a user id (`<@U1>`). */
  user(id: string): string;
  /** A channel's name without `#` (`<#C1>`). */
  channel(id: string): string;
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML text or attribute value: nothing in it can open a tag or leave an attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

/** Slack senders write `&`, `<` and `>` of plain text as `&amp;`, `&lt;`, `&gt;`; people see the characters. */
function unescapeSlack(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_, name: string) =>
    name === 'amp' ? '&' : name === 'lt' ? '<' : '>',
  );
}

/** HH:MM:SS (UTC) of epoch milliseconds, as the transcript shows times. */
export function clockOf(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** Pieces of finished HTML stand in the text as `\0<index>\0` while the rest is escaped and formatted. */
const SLOT = '\u0000';
const SLOT_PATTERN = new RegExp(`${SLOT}(\\d+)${SLOT}`, 'g');

/** Plain text as HTML: escaped, line breaks kept. */
export function plainHtml(text: string): string {
  return escapeHtml(text).replace(/\n/g, '<br>');
}

/**
 * mrkdwn as HTML: ```code blocks```, `code`, *bold*, _italic_, ~strike~, `>` quotes, line breaks,
 * `<url|label>` links, `<@U1>` / `<#C1>` / `<!subteam^S1>` / `<!here>` / `<!date^…>` tokens.
 */
export function mrkdwnHtml(text: string, names: NameDirectory): string {
  const slots: string[] = [];
  const keep = (html: string): string => {
    slots.push(html);
    return `${SLOT}${slots.length - 1}${SLOT}`;
  };
  const withSlots = text
    .replaceAll(SLOT, '')
    .replace(/```([\s\S]*?)```/g, (_, code: string) =>
      keep(`<pre>${escapeHtml(unescapeSlack(code.replace(/^\n/, '')))}</pre>`),
    )
    .replace(/`([^`\n]+)`/g, (_, code: string) => keep(`<code>${escapeHtml(unescapeSlack(code))}</code>`))
    .replace(/<([^<>\n]+)>/g, (_, token: string) => keep(tokenHtml(token, names)));
  const formatted = emphasis(escapeHtml(unescapeSlack(withSlots)));
  return quotes(formatted).replace(SLOT_PATTERN, (_, index: string) => slots[Number(index)] ?? '');
}

/** *bold*, _italic_, ~strike~ on escaped text: the markers must sit at word edges, as in Slack. */
function emphasis(html: string): string {
  return html
    .replace(/(^|[^\w*])\*(?!\s)([^*\n]*?[^\s*])\*(?![\w*])/g, '$1<strong>$2</strong>')
    .replace(/(^|[^\w_])_(?!\s)([^_\n]*?[^\s_])_(?![\w_])/g, '$1<em>$2</em>')
    .replace(/(^|[^\w~])~(?!\s)([^~\n]*?[^\s~])~(?![\w~])/g, '$1<s>$2</s>');
}

/** Lines starting with `>` (escaped by now) become one quote per run of such lines; others keep their breaks. */
function quotes(html: string): string {
  const out: string[] = [];
  let quoted: string[] = [];
  const flush = (): void => {
    if (quoted.length > 0) out.push(`<blockquote>${quoted.join('<br>')}</blockquote>`);
    quoted = [];
  };
  const lines = html.split('\n');
  lines.forEach((line, index) => {
    if (line.startsWith('&gt;')) {
      quoted.push(line.slice('&gt;'.length).replace(/^ /, ''));
      return;
    }
    flush();
    out.push(index < lines.length - 1 ? `${line}<br>` : line);
  });
  flush();
  return out.join('');
}

function tokenHtml(token: string, names: NameDirectory): string {
  const bar = token.indexOf('|');
  const target = bar === -1 ? token : token.slice(0, bar);
  const label = bar === -1 ? undefined : unescapeSlack(token.slice(bar + 1));
  const mention = (text: string): string => `<span class="mention">${escapeHtml(text)}</span>`;
  if (target.startsWith('@')) return mention(`@${names.user(target.slice(1))}`);
  if (target.startsWith('#')) return mention(`#${label ?? names.channel(target.slice(1))}`);
  if (target.startsWith('!subteam^')) {
    const handle = label?.replace(/^@/, '') ?? target.slice('!subteam^'.length);
    return mention(`@${handle}`);
  }
  if (target.startsWith('!date^')) {
    const seconds = Number(target.split('^')[1]);
    const shown = Number.isFinite(seconds) ? clockOf(seconds * 1_000) : (label ?? '');
    return `<time>${escapeHtml(shown)}</time>`;
  }
  if (target.startsWith('!')) return mention(`@${target.slice(1)}`);
  const url = unescapeSlack(target);
  if (/^(https?:\/\/|mailto:)/i.test(url)) {
    // A label may be formatted (`<url|*name*>`); the URL itself is shown as it is.
    const text = label === undefined ? escapeHtml(url) : emphasis(escapeHtml(label));
    return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${text}</a>`;
  }
  return escapeHtml(unescapeSlack(`<${token}>`));
}
