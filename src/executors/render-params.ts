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

export function renderParams(
  value: unknown,
  vars: TemplateVars,
  env: Readonly<Record<string, string | undefined>>,
): Rendered {
  const secrets: string[] = [];
  const problems: string[] = [];
  const renderString = (text: string): string =>
    text
      .replace(TEMPLATE_REFERENCE, (_match, path: string) => {
        const found = lookup(vars, path);
        if (found === undefined || found === null) {
          problems.push(`template variable "${path}" has no value`);
          return '';
        }
        return typeof found === 'string' ? found : JSON.stringify(found);
      })
      .replace(SECRET_REFERENCE, (_match, name: string) => {
        const secret = env[name];
        if (secret === undefined) {
          problems.push(`environment variable ${name} is not set`);
          return '';
        }
        if (secret.length > 0) secrets.push(secret);
        return secret;
      });
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return renderString(node);
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child)]));
    }
    return node;
  };
  const rendered = walk(value);
  return problems.length > 0
    ? { ok: false, error: problems.join('; ') }
    : { ok: true, value: rendered, secrets };
}

/** Replaces every secret in a text (output, error) by a mask. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((masked, secret) => masked.split(secret).join('•••'), text);
}
