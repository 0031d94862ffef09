/**
 * Fills a step's `with` values just before it runs: `{{ toVersion }}`-style template variables from
 * the rollback, and `${env:NAME}` secrets from the environment. Secrets never go back into the
 * snapshot or the thread: the rendered values live only for the executor's run, and `secretsOf`
 * tells the logger what to mask.
 */
import { TEMPLATE_REFERENCE, type TemplateVars } from '../domain/template-vars.js';
import type { z } from 'zod';
import { SECRET_REFERENCE } from '../schema/zod-kit.js';

export type Rendered = { ok: true; value: unknown; secrets: string[] } | { ok: false; error: string };

function lookup(vars: TemplateVars, path: string): unknown {
  let current: unknown = vars;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || !(part in current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Applies `replace` to every string inside a parameter value, keeping its shape. */
function mapStrings(node: unknown, replace: (text: string) => string): unknown {
  if (typeof node === 'string') return replace(node);
  if (Array.isArray(node)) return node.map((child) => mapStrings(child, replace));
  if (typeof node === 'object' && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, mapStrings(child, replace)]));
  }
  return node;
}

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** Fills `{{ template }}` references; `${env:NAME}` secrets are left for `injectSecrets`. */
export function renderTemplates(
  value: unknown,
  vars: TemplateVars,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const problems: string[] = [];
  const rendered = mapStrings(value, (text) =>
    text.replace(TEMPLATE_REFERENCE, (_match, path: string) => {
      const found = lookup(vars, path);
      if (found === undefined || found === null) {
        problems.push(`template variable "${path}" has no value`);
        return '';
      }
      return asText(found);
    }),
  );
  return problems.length > 0 ? { ok: false, error: problems.join('; ') } : { ok: true, value: rendered };
}

/** Puts the secrets in, from the environment; returns them too, so output can be masked. */
export function injectSecrets(value: unknown, env: Readonly<Record<string, string | undefined>>): Rendered {
  const secrets: string[] = [];
  const problems: string[] = [];
  const rendered = mapStrings(value, (text) =>
    text.replace(SECRET_REFERENCE, (_match, name: string) => {
      const secret = env[name];
      if (secret === undefined) {
        problems.push(`environment variable ${name} is not set`);
        return '';
      }
      if (secret.length > 0) secrets.push(secret);
      return secret;
    }),
  );
  return problems.length > 0
    ? { ok: false, error: problems.join('; ') }
    : { ok: true, value: rendered, secrets };
}

/** Templates, then secrets: what a step's parameters look like when it runs. */
export function renderParams(
  value: unknown,
  vars: TemplateVars,
  env: Readonly<Record<string, string | undefined>>,
): Rendered {
  const templated = renderTemplates(value, vars);
  if (!templated.ok) {
    const secrets = injectSecrets(value, env);
    return { ok: false, error: secrets.ok ? templated.error : `${templated.error}; ${secrets.error}` };
  }
  return injectSecrets(templated.value, env);
}

/**
 * A step's parameters ready to run: templates filled, then checked with the executor's schema (which
 * requires secrets as `${env:NAME}`, so the check sees the references, never the secrets), then the
 * secrets put into the checked values.
 */
export function prepareParams<P>(
  schema: z.ZodType<P>,
  value: unknown,
  vars: TemplateVars,
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; params: P; secrets: string[] } | { ok: false; error: string } {
  const templated = renderTemplates(value, vars);
  if (!templated.ok) return templated;
  const parsed = schema.safeParse(templated.value);
  if (!parsed.success) return { ok: false, error: `parameters are invalid: ${parsed.error.message}` };
  const withSecrets = injectSecrets(parsed.data, env);
  if (!withSecrets.ok) return withSecrets;
  return { ok: true, params: withSecrets.value as P, secrets: withSecrets.secrets };
}

/**
 * Parameters as a dry run shows them: templates filled where a value is known (outputs of steps
 * that have not run stay as `{{ ... }}`), secrets shown as `•••` and never read.
 */
export function previewParams(value: unknown, vars: TemplateVars): unknown {
  return mapStrings(value, (text) =>
    text
      .replace(TEMPLATE_REFERENCE, (match, path: string) => {
        const found = lookup(vars, path);
        return found === undefined || found === null ? match : asText(found);
      })
      .replace(SECRET_REFERENCE, '•••'),
  );
}

/** Replaces every secret in a text (output, error) by a mask. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((masked, secret) => masked.split(secret).join('•••'), text);
}
