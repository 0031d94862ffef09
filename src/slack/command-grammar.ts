/**
 * The `/rollback` grammar of DESIGN section 9, parsed into a typed command. Pure: which services
 * exist is checked later by the application, with a "did you mean" from the loaded plans.
 *
 *   /rollback                                  open the declaration modal
 *   /rollback <service> [--env E] [--to VERSION] [--strategy S] [--reason TEXT]
 *   /rollback help | list | status [ID] | history [SERVICE] | plan SERVICE | cancel ID
 *            | freeze on|off | stats | drill SERVICE
 */
import { closest } from '../schema/did-you-mean.js';

export type RollbackCommand =
  | { kind: 'modal' }
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'status'; id?: string }
  | { kind: 'history'; service?: string }
  | { kind: 'plan'; service: string }
  | { kind: 'cancel'; id: string }
  | { kind: 'freeze'; on: boolean }
  | { kind: 'stats' }
  | { kind: 'drill'; service: string }
  | {
      kind: 'declare';
      service: string;
      environment?: string;
      toVersion?: string;
      strategy?: string;
      reason?: string;
    };

export type CommandParse = { ok: true; command: RollbackCommand } | { ok: false; message: string };

const SUBCOMMANDS = [
  'help',
  'list',
  'status',
  'history',
  'plan',
  'cancel',
  'freeze',
  'stats',
  'drill',
] as const;
const FLAGS = {
  '--env': 'environment',
  '-e': 'environment',
  '--to': 'toVersion',
  '--strategy': 'strategy',
  '--reason': 'reason',
} as const;
type FlagName = keyof typeof FLAGS;
const isFlag = (word: string): word is FlagName => word in FLAGS;

const USAGE = 'Try `/rollback help`.';

/** The subcommand a mistyped word probably meant (`stauts` -> `status`), if any. */
export function suggestSubcommand(word: string): string | undefined {
  const suggestion = closest(word, SUBCOMMANDS);
  return suggestion === word.toLowerCase() ? undefined : suggestion;
}

/** Splits on spaces, keeping "quoted text" (straight or Slack's curly quotes) together. */
export function tokenize(text: string): { ok: true; tokens: string[] } | { ok: false; message: string } {
  const tokens: string[] = [];
  const normalised = text.replace(/[\u201C\u201D\u201E]/g, '"').replace(/[\u2018\u2019]/g, "'");
  let current = '';
  let quote: string | null = null;
  let started = false;
  for (const char of normalised) {
    if (quote) {
      if (char === quote) quote = null;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quote) return { ok: false, message: `a quote (${quote}) is not closed. ${USAGE}` };
  if (started) tokens.push(current);
  return { ok: true, tokens };
}

function one(word: string | undefined, rest: string[], what: string, sub: string): string | CommandParse {
  if (word === undefined) return { ok: false, message: `\`/rollback ${sub}\` needs ${what}. ${USAGE}` };
  if (rest.length > 0)
    return { ok: false, message: `\`/rollback ${sub}\` takes only ${what}; unexpected "${rest.join(' ')}".` };
  return word;
}

export function parseRollbackCommand(text: string): CommandParse {
  const split = tokenize(text.trim());
  if (!split.ok) return split;
  const [first, ...rest] = split.tokens;
  if (first === undefined) return { ok: true, command: { kind: 'modal' } };
  const word = first.toLowerCase();
  const ok = (command: RollbackCommand): CommandParse => ({ ok: true, command });
  const noArgs = (kind: 'help' | 'list' | 'stats'): CommandParse =>
    rest.length === 0 ? ok({ kind }) : { ok: false, message: `\`/rollback ${kind}\` takes no arguments.` };
  const optional = (sub: string): string | undefined | CommandParse =>
    rest.length <= 1 ? rest[0] : { ok: false, message: `\`/rollback ${sub}\` takes at most one argument.` };
  switch (word) {
    case 'help':
    case 'list':
    case 'stats':
      return noArgs(word);
    case 'status': {
      const id = optional('status');
      if (typeof id === 'object') return id;
      return ok(id === undefined ? { kind: 'status' } : { kind: 'status', id });
    }
    case 'history': {
      const service = optional('history');
      if (typeof service === 'object') return service;
      return ok(service === undefined ? { kind: 'history' } : { kind: 'history', service });
    }
    case 'plan':
    case 'drill': {
      const service = one(rest[0], rest.slice(1), 'a service', word);
      return typeof service === 'string' ? ok({ kind: word, service }) : service;
    }
    case 'cancel': {
      const id = one(rest[0], rest.slice(1), 'a rollback id', 'cancel');
      return typeof id === 'string' ? ok({ kind: 'cancel', id }) : id;
    }
    case 'freeze': {
      const mode = one(rest[0]?.toLowerCase(), rest.slice(1), '`on` or `off`', 'freeze');
      if (typeof mode !== 'string') return mode;
      if (mode !== 'on' && mode !== 'off')
        return { ok: false, message: '`/rollback freeze` takes `on` or `off`.' };
      return ok({ kind: 'freeze', on: mode === 'on' });
    }
    default:
      return parseDeclaration(first, rest);
  }
}

function parseDeclaration(service: string, words: string[]): CommandParse {
  if (service.startsWith('-')) {
    return {
      ok: false,
      message: `name the service first, e.g. \`/rollback checkout ${service} ...\`. ${USAGE}`,
    };
  }
  const values: Partial<Record<(typeof FLAGS)[FlagName], string>> = {};
  for (let i = 0; i < words.length; i++) {
    const raw = words[i]!;
    const [name, inline] = raw.includes('=')
      ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)]
      : [raw, undefined];
    if (!isFlag(name)) {
      if (name.startsWith('-')) {
        const suggestion = closest(name, Object.keys(FLAGS));
        return {
          ok: false,
          message: `unknown option \`${name}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}; options are --env, --to, --strategy, --reason.`,
        };
      }
      const sub = suggestSubcommand(service);
      return {
        ok: false,
        message:
          i === 0 && sub
            ? `unexpected "${raw}": did you mean \`/rollback ${sub}\`?`
            : `unexpected "${raw}": put text in an option, e.g. --reason "5xx spike after the deploy".`,
      };
    }
    const value = inline ?? words[++i];
    if (value === undefined || value === '' || isFlag(value)) {
      return {
        ok: false,
        message: `\`${name}\` needs a value, e.g. ${name === '--reason' ? '--reason "5xx spike"' : `${name} production`}.`,
      };
    }
    const field = FLAGS[name];
    if (values[field] !== undefined) return { ok: false, message: `\`${name}\` is given twice.` };
    values[field] = value;
  }
  return { ok: true, command: { kind: 'declare', service, ...values } };
}
