/**
 * Fills a step's `with` values just before it runs: `{{ toVersion }}`-style template variables from
 * the rollback, and the secrets the plan's author wrote (`${env:NAME}`, `${file:/path}`).
 *
 * Everything is put in by position, in one pass over the plan's own text (param-text.ts): a value
 * from a user, an alert, CI or an earlier step is data and is never scanned again, so a reason of
 * `${env:SLACK_SIGNING_SECRET}` stays those characters. Each value is also encoded for the place it
 * lands in (a URL, an argument list, a PromQL string), which the executor declares. Secrets never
 * go back into the snapshot or the thread: the rendered values live only for the executor's run.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { splitParamText, type SecretRef } from '../domain/param-text.js';
import type { RollbackPlan } from '../domain/plan.js';
import {
  lookupVariable as lookup,
  templateVarsFor,
  variableText as asText,
  type TemplateVars,
} from '../domain/template-vars.js';
import { SECRET_PLACEHOLDER, secretPlaceholder } from '../schema/zod-kit.js';
import { excerpt } from '../lib/text.js';

/** Where a parameter's template values land; an executor names its top-level keys of each kind. */
export type ValuePlace = 'url' | 'argv' | 'promql';
export type ValuePlaces = Readonly<Record<string, ValuePlace>>;

/** The plan key that lets a template value start an argument with "-" (off by default). */
export const ALLOW_OPTION_VALUES = 'allowOptionValues';

export type Rendered = { ok: true; value: unknown; secrets: string[] } | { ok: false; error: string };

export interface SecretSource {
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a `${file:/path}` secret; the file's trailing newline is dropped. */
  readFile?: (path: string) => string;
}

type Env = Readonly<Record<string, string | undefined>>;
const sourceOf = (secrets: SecretSource | Env): SecretSource =>
  'env' in secrets && typeof secrets['env'] === 'object'
    ? (secrets as SecretSource)
    : { env: secrets as Env };

function readSecret(
  ref: SecretRef,
  source: SecretSource,
): { ok: true; value: string } | { ok: false; error: string } {
  if (ref.source === 'env') {
    const value = source.env[ref.name];
    return value === undefined
      ? { ok: false, error: `environment variable ${ref.name} is not set` }
      : { ok: true, value };
  }
  try {
    const read = source.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
    return { ok: true, value: read(ref.name).replace(/\r?\n$/, '') };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      error: `secret file ${ref.name} cannot be read (${typeof code === 'string' ? code : 'error'})`,
    };
  }
}

/** Escapes a value for the inside of a PromQL string literal ("..." or '...'). */
const promqlString = (text: string): string =>
  text.replace(/[\\"'\n\r\t]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\${c}`);

interface Where {
  place: ValuePlace | undefined;
  /** Position in an argument list (argv places only). */
  item: number | undefined;
  allowOptionValues: boolean;
}

interface Filler {
  variable(path: string, value: string, where: Where, atStart: boolean): string;
  secret(ref: SecretRef): string;
  problem(message: string): void;
}

/** One pass over a plan text: its pieces in order, each value encoded for where it lands. */
function renderText(text: string, vars: TemplateVars, where: Where, fill: Filler): string {
  let out = '';
  for (const piece of splitParamText(text)) {
    if (piece.kind === 'text') out += piece.text;
    else if (piece.kind === 'secret') out += fill.secret(piece);
    else {
      const found = lookup(vars, piece.path);
      if (found === undefined || found === null) {
        fill.problem(`template variable "${piece.path}" has no value`);
        continue;
      }
      out += fill.variable(piece.path, asText(found), where, out === '');
    }
  }
  return out;
}

/** Encodes a template value for its place, or refuses it there. */
function placeValue(
  path: string,
  value: string,
  where: Where,
  atStart: boolean,
  problem: (m: string) => void,
): string {
  switch (where.place) {
    case 'url':
      // A value that opens the URL is its base, by the plan's choice; anywhere else it is one
      // path segment or query value, so "../admin?x#" cannot change the request.
      return atStart ? value : encodeURIComponent(value);
    case 'promql':
      return promqlString(value);
    case 'argv':
      if (where.item === 0) {
        problem(`the program to run must be written in the plan, not taken from {{ ${path} }}`);
        return value;
      }
      if (atStart && value.startsWith('-') && !where.allowOptionValues) {
        problem(
          `{{ ${path} }} is "${excerpt(value, 40)}", which would start argument ${where.item ?? 0} as an option; set ${ALLOW_OPTION_VALUES}: true in the step if it may`,
        );
      }
      return value;
    default:
      return value;
  }
}

/** Applies `fill` to every string inside a parameter value, keeping its shape and knowing its place. */
function mapTexts(
  value: unknown,
  places: ValuePlaces,
  fill: (text: string, where: Where) => string,
): unknown {
  const allowOptionValues =
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[ALLOW_OPTION_VALUES] === true;
  const walk = (node: unknown, where: Where): unknown => {
    if (typeof node === 'string') return fill(node, where);
    if (Array.isArray(node)) return node.map((child, item) => walk(child, { ...where, item }));
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child, where)]));
    }
    return node;
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return walk(value, { place: undefined, item: undefined, allowOptionValues });
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      walk(child, { place: places[key], item: undefined, allowOptionValues }),
    ]),
  );
}

/** Walks strings only, for swapping placeholders back after the schema check. */
function mapStrings(node: unknown, replace: (text: string) => string): unknown {
  if (typeof node === 'string') return replace(node);
  if (Array.isArray(node)) return node.map((child) => mapStrings(child, replace));
  if (typeof node === 'object' && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, mapStrings(child, replace)]));
  }
  return node;
}

interface Filled {
  value: unknown;
  problems: string[];
  /** The secrets read, in the order of their placeholders. */
  secrets: string[];
}

function fillAll(
  value: unknown,
  vars: TemplateVars,
  places: ValuePlaces,
  secret: (ref: SecretRef) => { text: string; value?: string; problem?: string },
): Filled {
  const problems: string[] = [];
  const secrets: string[] = [];
  const problem = (message: string): void => {
    problems.push(message);
  };
  const filled = mapTexts(value, places, (text, where) =>
    renderText(text, vars, where, {
      variable: (path, found, at, atStart) => placeValue(path, found, at, atStart, problem),
      secret: (ref) => {
        const result = secret(ref);
        if (result.problem !== undefined) problem(result.problem);
        if (result.value !== undefined) secrets.push(result.value);
        return result.text;
      },
      problem,
    }),
  );
  return { value: filled, problems, secrets };
}

/** Templates and secrets filled by position, without a schema check (tests, previews of values). */
export function renderParams(
  value: unknown,
  vars: TemplateVars,
  secrets: SecretSource | Env,
  places: ValuePlaces = {},
): Rendered {
  const source = sourceOf(secrets);
  const filled = fillAll(value, vars, places, (ref) => {
    const read = readSecret(ref, source);
    return read.ok ? { text: read.value, value: read.value } : { text: '', problem: read.error };
  });
  return filled.problems.length > 0
    ? { ok: false, error: filled.problems.join('; ') }
    : { ok: true, value: filled.value, secrets: filled.secrets.filter((s) => s.length > 0) };
}

/**
 * A step's parameters ready to run: templates filled and each plan-written secret reference held
 * by a placeholder of this run only; then checked with the executor's schema (which sees no
 * secret); then the placeholders swapped for the secrets.
 */
export function prepareParams<P>(
  schema: z.ZodType<P>,
  value: unknown,
  vars: TemplateVars,
  secrets: SecretSource | Env,
  places: ValuePlaces = {},
): { ok: true; params: P; secrets: string[] } | { ok: false; error: string } {
  const source = sourceOf(secrets);
  const nonce = randomBytes(16).toString('hex');
  const refs: SecretRef[] = [];
  const filled = fillAll(value, vars, places, (ref) => {
    refs.push(ref);
    return { text: secretPlaceholder(nonce, refs.length - 1) };
  });
  if (filled.problems.length > 0) return { ok: false, error: filled.problems.join('; ') };
  const parsed = schema.safeParse(filled.value);
  if (!parsed.success) return { ok: false, error: `parameters are invalid: ${parsed.error.message}` };
  const values: string[] = [];
  const problems: string[] = [];
  for (const ref of refs) {
    const read = readSecret(ref, source);
    if (read.ok) values.push(read.value);
    else {
      values.push('');
      problems.push(read.error);
    }
  }
  if (problems.length > 0) return { ok: false, error: [...new Set(problems)].join('; ') };
  const params = mapStrings(parsed.data, (text) =>
    text.replace(SECRET_PLACEHOLDER, (match, runNonce: string, index: string) =>
      runNonce === nonce ? (values[Number(index)] ?? match) : match,
    ),
  ) as P;
  return { ok: true, params, secrets: values.filter((s) => s.length > 0) };
}

/**
 * Parameters as a dry run shows them: templates filled where a value is known (outputs of steps
 * that have not run stay as `{{ ... }}`), secrets shown as `•••` and never read.
 */
export function previewParams(value: unknown, vars: TemplateVars): unknown {
  return mapStrings(value, (text) =>
    splitParamText(text)
      .map((piece) => {
        if (piece.kind === 'text') return piece.text;
        if (piece.kind === 'secret') return '•••';
        const found = lookup(vars, piece.path);
        return found === undefined || found === null ? `{{ ${piece.path} }}` : asText(found);
      })
      .join(''),
  );
}

/** A strategy's steps as `/rollback plan` shows them: known values filled, the rest as placeholders. */
export function previewStrategy(
  plan: RollbackPlan,
  strategyName: string,
  now: number,
): Array<{ name: string; uses: string; params: Record<string, unknown> }> {
  const strategy = plan.strategies[strategyName];
  if (!strategy) return [];
  const vars = templateVarsFor({
    id: '(not declared)',
    reason: '(the reason given)',
    service: plan.service,
    environment: plan.environments[0] ?? 'production',
    fromVersion: null,
    toVersion: '(target version)',
    strategy,
    incidentStartedAt: now,
    declaredBy: '(you)',
    steps: [],
  });
  return strategy.steps.map((step) => ({
    name: step.name,
    uses: step.uses,
    params: previewParams(step.with, vars) as Record<string, unknown>,
  }));
}
