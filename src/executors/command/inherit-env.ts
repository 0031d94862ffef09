/**
 * `inheritEnv` of a command step: which variables of the bot's own environment its program gets,
 * besides PATH. Nothing else is passed by default, so a script never sees the bot's tokens by
 * accident; a plan names what the program needs (`AWS_*` for the AWS CLI, `KUBECONFIG`), and a
 * reviewer reads it in the plan.
 */
import { BOT_CREDENTIAL_VARIABLES, secretsOfVariable } from '../../domain/environment-secrets.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A variable name, or a prefix ending in `*` (`AWS_*`); a bare `*` (everything) is not one. */
export const INHERIT_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

const botCredentials: ReadonlySet<string> = new Set(BOT_CREDENTIAL_VARIABLES);

export const isBotCredential = (name: string): boolean => botCredentials.has(name);

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/**
 * The variables of `env` that the patterns name, without the bot's own credentials (a prefix such
 * as `SLACK_*` must not hand them over either). Unset and empty variables are left out.
 */
export function inheritedEnv(patterns: readonly string[], env: Env): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '' || isBotCredential(name)) continue;
    if (patterns.some((pattern) => matches(pattern, name))) inherited[name] = value;
  }
  return inherited;
}

/** What of the inherited variables must be masked in the step's output (see environment-secrets.ts). */
export function inheritedSecrets(patterns: readonly string[], env: Env): string[] {
  return Object.entries(inheritedEnv(patterns, env)).flatMap(([name, value]) =>
    secretsOfVariable(name, value),
  );
}
