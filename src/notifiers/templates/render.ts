/**
 * Renders a communication template for one target. Handlebars runs with `strict` (a missing
 * variable throws), `knownHelpersOnly`, its default refusal of prototype properties, and only after
 * `checkTemplate` found nothing wrong, so a template that passed `validate` renders.
 *
 * Escaping is done on the values, not the output: for Slack every text value is `escapeMrkdwn`-ed
 * before rendering (and the output is not HTML-escaped), so `<!channel>` in a reason stays text
 * while `<@{{ declaredBy }}>` written in the template itself is a mention. SNS and Statuspage get
 * plain text, unescaped.
 */
import Handlebars from 'handlebars';
import type { CommunicationTarget } from '../../domain/communications.js';
import type { CommunicationVars } from '../../domain/communication-vars.js';
import { RollbackError } from '../../lib/errors.js';
import { ELLIPSIS, escapeMrkdwn, mention, truncate } from '../../slack/blocks/text.js';
import { checkTemplate, TEMPLATE_HELPERS } from './check.js';

/** Rendered text is cut to this length (Slack: one section's text). */
export const MAX_OUTPUT_CHARS: Record<CommunicationTarget, number> = {
  slack: 3_000,
  sns: 10_000,
  statuspage: 5_000,
};
/** SNS refuses subjects of 100 characters or more, non-ASCII and line breaks. */
export const MAX_SNS_SUBJECT_CHARS = 99;
/** Lists are cut before rendering: an `{{#each}}` does bounded work whatever the rollback holds. */
export const MAX_LIST_ITEMS = 50;
const CACHE_SIZE = 256;

export class TemplateError extends RollbackError {
  constructor(userMessage: string, cause?: unknown) {
    super({ code: 'template_invalid', userMessage, retryable: false, cause });
  }
}

type Render = (vars: unknown) => string;
type Flavour = 'slack' | 'plain';

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const PLAIN_ACTOR: Record<string, string> = { policy: 'the authority policy', system: 'rollback-bot' };

/** One Handlebars environment per flavour, each with its own `mention` and without `log`/`lookup`. */
function environment(flavour: Flavour): typeof Handlebars {
  const env = Handlebars.create();
  env.unregisterHelper('log');
  env.unregisterHelper('lookup');
  env.registerHelper('mention', (value: unknown) => {
    const text = typeof value === 'string' ? value : '';
    // Slack values arrive escaped; an id, `policy` and `system` are the same escaped or not.
    // Own keys only: `constructor` or `toString` as a value must not reach Object.prototype.
    const actor = Object.hasOwn(PLAIN_ACTOR, text) ? PLAIN_ACTOR[text] : undefined;
    if (flavour === 'slack') return USER_ID.test(text) || actor !== undefined ? mention(text) : text;
    return actor ?? (USER_ID.test(text) ? `@${text}` : text);
  });
  return env;
}

const environments: Record<Flavour, typeof Handlebars> = {
  slack: environment('slack'),
  plain: environment('plain'),
};
const cache = new Map<string, Render>();

function compiled(text: string, flavour: Flavour): Render {
  const key = `${flavour}\u0000${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const findings = checkTemplate(text);
  if (findings.length > 0) {
    const where = (f: (typeof findings)[number]) => (f.line === undefined ? '' : ` (line ${f.line})`);
    throw new TemplateError(`template ${findings.map((f) => `${f.message}${where(f)}`).join('; ')}`);
  }
  const render = environments[flavour].compile(text, {
    strict: true,
    knownHelpersOnly: true,
    knownHelpers: Object.fromEntries(TEMPLATE_HELPERS.map((h) => [h, true])),
    noEscape: true,
    data: true,
  });
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, render);
  return render;
}

/** Renders `text` with `vars` for `target`; throws `TemplateError` on a bad template or missing variable. */
export function renderTemplate(text: string, vars: CommunicationVars, target: CommunicationTarget): string {
  const flavour: Flavour = target === 'slack' ? 'slack' : 'plain';
  const render = compiled(text, flavour);
  const input = bounded(vars, flavour === 'slack' ? escapeMrkdwn : (s: string) => s);
  let output: string;
  try {
    output = render(input);
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '') : '';
    throw new TemplateError(`template could not be rendered: ${detail}`, error);
  }
  const max = MAX_OUTPUT_CHARS[target];
  return flavour === 'slack' ? truncate(output, max) : truncatePlain(output, max);
}

/** An SNS subject: rendered as plain text, on one line, ASCII only, under 100 characters. */
export function renderSnsSubject(text: string, vars: CommunicationVars): string {
  const line = renderTemplate(text, vars, 'sns')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return truncatePlain(line === '' ? 'rollback-bot' : line, MAX_SNS_SUBJECT_CHARS, '...');
}

/** A copy of `value` with every string passed through `text` and every list cut to MAX_LIST_ITEMS. */
function bounded(value: unknown, text: (s: string) => string): unknown {
  if (typeof value === 'string') return text(value);
  if (Array.isArray(value)) return value.slice(0, MAX_LIST_ITEMS).map((item) => bounded(item, text));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bounded(v, text)]));
  }
  return value;
}

function truncatePlain(text: string, max: number, ellipsis = ELLIPSIS): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - ellipsis.length);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut + ellipsis;
}
