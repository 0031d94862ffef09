/**
 * zod issues rewritten for people who write YAML: "must be a list, not a mapping" rather than
 * "expected array, received object", one message per unknown key, and unions explained by the
 * branch that came closest.
 */
import type { z } from 'zod';
import { didYouMean } from './did-you-mean.js';

export type IssuePath = readonly (string | number)[];

export interface SchemaProblem {
  /** Relative to the value that was parsed. */
  path: IssuePath;
  message: string;
}

type Issue = z.core.$ZodIssue;

const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized)/;

export function issuesToProblems(issues: readonly Issue[], input: unknown): SchemaProblem[] {
  return issues.flatMap((issue) => issueToProblems(issue, input, []));
}

function issueToProblems(issue: Issue, input: unknown, prefix: IssuePath): SchemaProblem[] {
  const path = [...prefix, ...issue.path.map(toKey)];
  if (issue.code === 'unrecognized_keys') {
    // One problem per key, located at the key, so the line number points at the typo.
    const messages = ZOD_DEFAULT_MESSAGE.test(issue.message) ? [] : issue.message.split('; ');
    return issue.keys.map((key, i) => ({
      path: [...path, key],
      message: messages[i] ?? `unknown key "${key}"`,
    }));
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0 && issue.discriminator === undefined) {
    const closest = closestBranch(issue.errors);
    if (closest) return closest.flatMap((inner) => issueToProblems(inner, input, path));
  }
  return [{ path, message: describeIssue(issue, valueAt(input, path)) }];
}

/** The union branch that matched the value's type and failed deeper inside, if exactly one did. */
function closestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const deeper = branches.filter((issues) => issues.every((i) => i.path.length > 0));
  return deeper.length === 1 ? deeper[0] : undefined;
}

export function describeIssue(issue: Issue, value: unknown): string {
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    return 'is required';
  }
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) {
    return issue.code === 'invalid_type' ? `${issue.message}, not ${describeValue(value)}` : issue.message;
  }
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${article(issue.expected)}, not ${describeValue(value)}`;
    case 'invalid_value':
      return oneOf(issue.values.map(String), value);
    case 'invalid_union':
      if (issue.discriminator !== undefined && 'options' in issue && Array.isArray(issue.options)) {
        // A discriminator with a default (aws-elb's `action`) also lists undefined: not a value to write.
        return oneOf(
          issue.options.filter((option) => option !== undefined && option !== null).map(String),
          value,
        );
      }
      return `must be ${issue.errors
        .map((branch) => branch.find((i) => i.code === 'invalid_type')?.expected)
        .filter((expected) => expected !== undefined)
        .map(article)
        .join(' or ')}, not ${describeValue(value)}`;
    case 'too_small':
      return bound('at least', issue.origin, Number(issue.minimum), issue.inclusive ?? true);
    case 'too_big':
      return bound('at most', issue.origin, Number(issue.maximum), issue.inclusive ?? true);
    default:
      return issue.message;
  }
}

function oneOf(values: string[], value: unknown): string {
  const listed = values.map((v) => `"${v}"`).join(', ');
  const suggestion = typeof value === 'string' ? didYouMean(value, values) : '';
  const got = value === undefined ? '' : `, not ${describeValue(value)}`;
  return values.length === 1 ? `must be ${listed}${got}` : `must be one of ${listed}${got}${suggestion}`;
}

function bound(word: string, origin: string, limit: number, inclusive: boolean): string {
  if (origin === 'array') return `must have ${word} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string')
    return limit === 1 && word === 'at least' ? 'must not be empty' : `must have ${word} ${limit} characters`;
  if (!inclusive) return `must be ${word === 'at least' ? 'greater' : 'less'} than ${limit}`;
  return `must be ${word} ${limit}`;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    array: 'a list',
    object: 'a mapping',
    record: 'a mapping',
    int: 'a whole number',
    number: 'a number',
    string: 'text',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  return typeof value;
}

export function valueAt(root: unknown, path: IssuePath): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function toKey(segment: PropertyKey): string | number {
  return typeof segment === 'symbol' ? String(segment) : segment;
}
