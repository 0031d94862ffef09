/**
 * The `/rollback` grammar of DESIGN section 9, parsed into a typed command. Pure: which services
 * exist is checked later by the application, with a "did you mean" from the loaded plans.
 *
 *   /rollback                                  open the declaration modal
 *   /rollback <service> [--env E] [--to VERSION] [--strategy S] [--reason TEXT]
 *   /rollback help | list | status [ID] | history [SERVICE] | plan SERVICE | cancel ID | stats
 *   /rollback freeze                           list the current freezes
 *   /rollback freeze on SERVICE [--env E] [--reason TEXT]
 *   /rollback freeze off SERVICE [--env E]
 *   /rollback drill SERVICE [--strategy S] [--to VERSION]   (always against staging)
 */
import { closest } from '../schema/did-you-mean.js';
import { ALL } from '../app/freeze-service.js';
import { findUnsafeCharacter, unsafeCharacterMessage } from '../domain/untrusted-text.js';
import { parseVersion } from '../domain/version.js';

export type RollbackCommand =
  | { kind: 'modal' }
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'status'; id?: string }
  | { kind: 'history'; service?: string }
  | { kind: 'plan'; service: string }
  | { kind: 'cancel'; id: string }
  | { kind: 'freeze'; action: 'list' }
  | { kind: 'freeze'; action: 'on'; service: string; environment?: string; reason?: string }
  | { kind: 'freeze'; action: 'off'; service: string; environment?: string }
  | { kind: 'stats' }
  | { kind: 'drill'; service: string; strategy?: string; toVersion?: string }
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

/**
 * Why an argument is refused: no control or bidirectional formatting character in any of them
 * (they would reach the card, the logs and step parameters looking like something else).
 */
function unsafeArgument(tokens: readonly string[]): string | undefined {
  for (const [index, token] of tokens.entries()) {
    const found = findUnsafeCharacter(token);
    if (found === undefined) continue;
    return unsafeCharacterMessage(argumentName(tokens, index), found);
  }
  return undefined;
}

/** "the value of `--to`" for a flag's value (`--to X` or `--to=X`), else "argument 2". */
function argumentName(tokens: readonly string[], index: number): string {
  const token = tokens[index]!;
  const inline = token.includes('=') ? token.slice(0, token.indexOf('=')) : undefined;
  if (inline !== undefined && isFlag(inline)) return `the value of \`${inline}\``;
  const previous = tokens[index - 1];
  if (previous !== undefined && isFlag(previous)) return `the value of \`${previous}\``;
  return `argument ${index + 1}`;
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
  const unsafe = unsafeArgument(split.tokens);
  if (unsafe !== undefined) return { ok: false, message: unsafe };
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
    case 'plan': {
      const service = one(rest[0], rest.slice(1), 'a service', word);
      return typeof service === 'string' ? ok({ kind: word, service }) : service;
    }
    case 'drill':
      return parseDrill(rest);
    case 'cancel': {
      const id = one(rest[0], rest.slice(1), 'a rollback id', 'cancel');
      return typeof id === 'string' ? ok({ kind: 'cancel', id }) : id;
    }
    case 'freeze':
      return parseFreeze(rest);
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
  const read = readFlags(words, ALL_FLAGS, (raw, i) => {
    const sub = suggestSubcommand(service);
    return i === 0 && sub
      ? `unexpected "${raw}": did you mean \`/rollback ${sub}\`?`
      : `unexpected "${raw}": put text in an option, e.g. --reason "5xx spike after the deploy".`;
  });
  if (!read.ok) return read;
  return { ok: true, command: { kind: 'declare', service, ...read.values } };
}

type FlagValues = Partial<Record<(typeof FLAGS)[FlagName], string>>;
const ALL_FLAGS = Object.keys(FLAGS) as FlagName[];
const FLAG_EXAMPLES: Record<(typeof FLAGS)[FlagName], string> = {
  environment: '--env production',
  toVersion: '--to v1.4.1',
  strategy: '--strategy blue-green',
  reason: '--reason "5xx spike"',
};

/**
 * The `--flag value` / `--flag=value` words after a subcommand's positional words. `allowed` are the
 * flags this subcommand takes; `stray` words the message for a word that is not a flag.
 */
function readFlags(
  words: readonly string[],
  allowed: readonly FlagName[],
  stray: (word: string, index: number) => string,
  sub?: string,
): { ok: true; values: FlagValues } | { ok: false; message: string } {
  const values: FlagValues = {};
  const listed = [...new Set(allowed.filter((f) => f.startsWith('--')))].join(', ');
  for (let i = 0; i < words.length; i++) {
    const raw = words[i]!;
    const [name, inline] = raw.includes('=')
      ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)]
      : [raw, undefined];
    if (!isFlag(name) || !allowed.includes(name)) {
      if (isFlag(name) && sub !== undefined)
        return { ok: false, message: `\`/rollback ${sub}\` does not take \`${name}\`; it takes ${listed}.` };
      if (name.startsWith('-')) {
        const suggestion = closest(name, allowed);
        return {
          ok: false,
          message: `unknown option \`${name}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}; options are ${listed}.`,
        };
      }
      return { ok: false, message: stray(raw, i) };
    }
    const value = inline ?? words[++i];
    if (value === undefined || value === '' || isFlag(value)) {
      return { ok: false, message: `\`${name}\` needs a value, e.g. ${FLAG_EXAMPLES[FLAGS[name]]}.` };
    }
    const field = FLAGS[name];
    if (values[field] !== undefined) return { ok: false, message: `\`${name}\` is given twice.` };
    if (field === 'toVersion') {
      const version = parseVersion(value);
      if (!version.ok) return { ok: false, message: `\`${name}\`: ${version.message}.` };
    }
    values[field] = value;
  }
  return { ok: true, values };
}

const FREEZE_USAGE =
  '`/rollback freeze on SERVICE [--env E] [--reason TEXT]`, `/rollback freeze off SERVICE [--env E]`, or `/rollback freeze` to list the freezes';

/** `freeze` | `freeze on SERVICE [--env E] [--reason TEXT]` | `freeze off SERVICE [--env E]`. */
function parseFreeze(words: readonly string[]): CommandParse {
  const [modeWord, service, ...flags] = words;
  if (modeWord === undefined) return { ok: true, command: { kind: 'freeze', action: 'list' } };
  const mode = modeWord.toLowerCase();
  if (mode !== 'on' && mode !== 'off')
    return { ok: false, message: `\`/rollback freeze\` takes \`on\` or \`off\`: ${FREEZE_USAGE}.` };
  // No service: every service (DESIGN's `/rollback freeze on|off`), in one environment with --env.
  const everything = service === undefined || service.startsWith('-');
  const sub = `freeze ${mode}`;
  const allowed: FlagName[] = mode === 'on' ? ['--env', '-e', '--reason'] : ['--env', '-e'];
  const read = readFlags(
    everything && service !== undefined ? [service, ...flags] : flags,
    allowed,
    (raw) =>
      mode === 'on'
        ? `unexpected "${raw}": put the why in --reason, e.g. --reason "release train".`
        : `unexpected "${raw}": \`/rollback freeze off\` takes a service and --env.`,
    sub,
  );
  if (!read.ok) return read;
  const { environment, reason } = read.values;
  return {
    ok: true,
    command:
      mode === 'on'
        ? {
            kind: 'freeze',
            action: 'on',
            service: everything ? ALL : service,
            ...(environment === undefined ? {} : { environment }),
            ...(reason === undefined ? {} : { reason }),
          }
        : {
            kind: 'freeze',
            action: 'off',
            service: everything ? ALL : service,
            ...(environment === undefined ? {} : { environment }),
          },
  };
}

/** `drill SERVICE [--strategy S] [--to VERSION]`: the environment is always staging. */
function parseDrill(words: readonly string[]): CommandParse {
  const [service, ...flags] = words;
  if (service === undefined || service.startsWith('-'))
    return {
      ok: false,
      message: `\`/rollback drill\` needs a service, e.g. \`/rollback drill checkout --strategy blue-green\`. ${USAGE}`,
    };
  if (flags.some((w) => w === '--env' || w === '-e' || w.startsWith('--env=') || w.startsWith('-e=')))
    return { ok: false, message: 'a drill always runs against `staging`; leave out `--env`.' };
  const read = readFlags(
    flags,
    ['--strategy', '--to'],
    (raw) => `unexpected "${raw}": \`/rollback drill\` takes a service, --strategy and --to.`,
    'drill',
  );
  if (!read.ok) return read;
  const { strategy, toVersion } = read.values;
  return {
    ok: true,
    command: {
      kind: 'drill',
      service,
      ...(strategy === undefined ? {} : { strategy }),
      ...(toVersion === undefined ? {} : { toVersion }),
    },
  };
}
