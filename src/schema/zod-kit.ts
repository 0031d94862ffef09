/**
 * Building blocks shared by the manifest schema and the executors' parameter schemas, so that a
 * duration, a secret reference or an unknown key reads and fails the same way everywhere.
 */
import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';
import { SECRET_REFERENCES, WHOLE_SECRET_REFERENCE } from '../domain/param-text.js';
import { didYouMean } from './did-you-mean.js';

/** Strict object whose unknown keys fail with a suggestion: `unknown key "retires" (did you mean "retries"?)`. */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(shape, { error: unknownKeys(Object.keys(shape)) });
}

/** Error map for a strict object or an enum-keyed record: names the unknown keys and suggests a known one. */
export function unknownKeys(known: readonly string[]) {
  return (issue: z.core.$ZodRawIssue): string | undefined =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `unknown key "${key}"${didYouMean(key, known)}`).join('; ')
      : undefined;
}

export const DURATION_PATTERN = '^\\s*(\\d+(ms|s|m|h|d))+\\s*$';

/** A duration as plans write it (`30s`, `15m`, `1h30m`), parsed to milliseconds. */
export function duration(description: string) {
  return z
    .string({ error: 'must be a duration such as 30s, 15m or 1h30m (a number needs a unit)' })
    .transform((text, ctx) => {
      const parsed = parseDuration(text);
      if (parsed.ok) return parsed.ms;
      ctx.addIssue({ code: 'custom', message: parsed.message });
      return z.NEVER;
    })
    .meta({ description, pattern: DURATION_PATTERN });
}

/**
 * What a plan's secret reference becomes while a step's parameters are checked: a token that no
 * value from outside can hold (it carries a random nonce of that one run), swapped for the secret
 * only after the check. See executors/render-params.ts.
 */
export const SECRET_PLACEHOLDER = /\uE000([0-9a-f]{32}):(\d+)\uE001/g;
export const secretPlaceholder = (nonce: string, index: number): string => `\uE000${nonce}:${index}\uE001`;
const WHOLE_PLACEHOLDER = /^\uE000[0-9a-f]{32}:\d+\uE001$/;

/** A secret: must be exactly `${env:NAME}` or `${file:/path}`, so the value never sits in a plan file. */
export function secretReference(description: string) {
  return z
    .string()
    .refine((text) => WHOLE_SECRET_REFERENCE.test(text) || WHOLE_PLACEHOLDER.test(text), {
      error:
        'must be a reference to an environment variable such as ${env:UNLEASH_TOKEN} (or a file such as ${file:/run/secrets/token}), never the secret itself',
    })
    .meta({ description, pattern: WHOLE_SECRET_REFERENCE.source });
}

/**
 * A URL that may hold `{{ templates }}` and `${env:...}` references: checked with those replaced by
 * a placeholder, since their values are only known when the step runs.
 */
export function templatedUrl(description: string) {
  return z
    .string()
    .refine(
      (text) => {
        const probe = text
          .replace(/\{\{[^}]*\}\}/g, 'x')
          .replace(SECRET_REFERENCES, 'x')
          .replace(SECRET_PLACEHOLDER, 'x');
        try {
          const url = new URL(probe);
          return url.protocol === 'http:' || url.protocol === 'https:';
        } catch {
          return false;
        }
      },
      { error: 'must be an http:// or https:// URL' },
    )
    .describe(description);
}

export const nonEmptyText = (description: string) =>
  z.string().trim().min(1, { error: 'must not be empty' }).describe(description);
