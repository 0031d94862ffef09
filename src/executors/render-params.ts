/**
 * Fills a step's `with` values just before it runs: `{{ toVersion }}`-style template variables from
 * the rollback, and `${env:NAME}` secrets from the environment. Secrets never go back into the
 * snapshot or the thread: the rendered values live only for the executor's run, and `secretsOf`
 * tells the logger what to mask.
 */
import { TEMPLATE_REFERENCE, type TemplateVars } from '../domain/template-vars.js';
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

export function renderParams(
  value: unknown,
  vars: TemplateVars,
  env: Readonly<Record<string, string | undefined>>,
): Rendered {
  const secrets: string[] = [];
  const problems: string[] = [];
  const rendered = mapStrings(value, (text) =>
    text
      .replace(TEMPLATE_REFERENCE, (_match, path: string) => {
        const found = lookup(vars, path);
        if (found === undefined || found === null) {
          problems.push(`template variable "${path}" has no value`);
          return '';
        }
        return asText(found);
      })
      .replace(SECRET_REFERENCE, (_match, name: string) => {
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
