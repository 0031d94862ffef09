/**
 * Every secret value this process knows before any step runs: the bot's own credentials and the
 * values behind the `${env:...}`/`${file:...}` references its plans make. They feed the one
 * SecretMask (domain/secret-mask.ts), so a secret is hidden in every output, message and log line,
 * even one that a step never meant to print.
 */
import { readFileSync } from 'node:fs';
import { BOT_CREDENTIAL_VARIABLES, urlPasswords } from '../domain/environment-secrets.js';
import { secretRefsIn } from '../domain/param-text.js';

/**
 * Variables whose whole value is a credential of the bot (or of the AWS SDK), whatever the plans say;
 * of REDIS_URL only the password is secret (below).
 */
export const CREDENTIAL_VARIABLES = [
  ...BOT_CREDENTIAL_VARIABLES.filter((name) => name !== 'REDIS_URL'),
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

export function knownSecrets(
  env: Env,
  plans: Iterable<unknown>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): string[] {
  const values: (string | undefined)[] = CREDENTIAL_VARIABLES.map((name) => env[name]);
  values.push(...urlPasswords(env['REDIS_URL']));
  for (const plan of plans) {
    for (const ref of secretRefsIn(plan)) {
      if (ref.source === 'env') values.push(env[ref.name]);
      else {
        try {
          values.push(readFile(ref.name).replace(/\r?\n$/, ''));
        } catch {
          // Unreadable now: the step that needs it says so when it runs.
        }
      }
    }
  }
  return values.filter((value): value is string => value !== undefined && value !== '');
}
