/**
 * A step's `when`: one template reference, optionally negated, judged when execution reaches the
 * step (an earlier step's output only exists by then). The grammar is kept to exactly
 * `{{ ref }}` or `{{ !ref }}`: anything richer (comparisons, and/or) belongs in an earlier step
 * that prints the answer, where it can be run and tested on its own.
 */
import type { StepCondition } from './plan.js';
import { lookupVariable, variableText, type TemplateVars } from './template-vars.js';

const PATH = '[A-Za-z_][\\w-]*(?:\\.[\\w-]+)*';

/** A whole `when` text; group 1 is the `!`, group 2 the reference. */
const CONDITION = new RegExp(`^\\s*\\{\\{\\s*(!?)\\s*(${PATH})\\s*\\}\\}\\s*$`);

/** The same grammar for editors (the published JSON Schema). */
export const CONDITION_PATTERN = CONDITION.source;

const EXAMPLE = '"{{ steps.<id>.output.<key> }}" or "{{ !steps.<id>.output.<key> }}"';

export type ConditionParse = { ok: true; condition: StepCondition } | { ok: false; message: string };

export function parseCondition(text: string): ConditionParse {
  const match = CONDITION.exec(text);
  if (match) return { ok: true, condition: { ref: match[2]!, negate: match[1] === '!', text: text.trim() } };
  return { ok: false, message: conditionProblem(text.trim()) };
}

/** What is wrong with a `when` text that does not parse, in the terms its author used. */
function conditionProblem(text: string): string {
  const bare = new RegExp(`^(!?)\\s*(${PATH})$`).exec(text);
  if (bare) return `"${text}" needs braces: "{{ ${bare[1]!}${bare[2]!} }}"`;
  const outside = new RegExp(`^!\\s*\\{\\{\\s*(${PATH})\\s*\\}\\}$`).exec(text);
  if (outside) return `put the ! inside the braces: "{{ !${outside[1]!} }}"`;
  if ((text.match(/\{\{/g) ?? []).length > 1) {
    return `"${text}" holds more than one reference: write exactly one, such as ${EXAMPLE}; to combine conditions, let an earlier step print the answer`;
  }
  const inner = /^\{\{(.*)\}\}$/s.exec(text)?.[1]?.trim();
  if (inner !== undefined && inner !== '') {
    return `"{{ ${inner} }}" is not a reference: comparisons and expressions are not supported; let an earlier step print true or false and write ${EXAMPLE}`;
  }
  const empty = text === '' || inner === '';
  return `${empty ? `"${text}" is empty` : `"${text}" is not a reference`}: write exactly one, such as ${EXAMPLE}`;
}

/** Texts a value renders to that count as false (compared trimmed and in any case). */
const FALSE_TEXTS: ReadonlySet<string> = new Set(['', 'false', 'no', '0']);

/**
 * Whether a value lets a `when` step run. It is judged by the text `{{ }}` would put in a
 * parameter, so "false" from a script and `false` from JSON agree: false for no value, "", "false",
 * "no" and "0" (any case; so also the number 0), true for anything else.
 */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  return !FALSE_TEXTS.has(variableText(value).trim().toLowerCase());
}

/** Longest value quoted in a reason; the step's output holds the rest. */
const SHOWN_MAX = 60;

export interface ConditionResult {
  holds: boolean;
  /** What the reference held, in words: `steps.check.output.applied was false`. */
  why: string;
}

/** A value as a reason quotes it: JSON (so "no" and `false` read apart), cut to SHOWN_MAX. */
function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > SHOWN_MAX ? `${text.slice(0, SHOWN_MAX - 1)}…` : text;
}

/** Judges `condition` against the rollback's template variables, as they are now. */
export function evaluateCondition(condition: StepCondition, vars: TemplateVars): ConditionResult {
  const value = lookupVariable(vars, condition.ref);
  const truthy = isTruthy(value);
  const seen = value === undefined || value === null ? 'had no value' : `was ${shown(value)}`;
  return {
    holds: condition.negate ? !truthy : truthy,
    why: `${condition.ref} ${seen}${condition.negate ? ', and the step runs only when it is not' : ''}`,
  };
}
