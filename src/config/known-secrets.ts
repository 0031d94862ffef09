/**
 * Every secret value this process knows before any step runs: the bot's own credentials and the
 * values behind the `${env:...}`/`${file:...}` references its plans make. They feed the one
 * SecretMask (domain/secret-mask.ts), so a secret is hidden in every output, message and log line,
 * even one that a step never meant to print.
 */
import { readFileSync } from 'node:fs';
import { secretRefsIn } from '../domain/param-text.js';

/** Variables that hold the bot's own credentials (and the AWS SDK's), whatever the plans say. */
export const CREDENTIAL_VARIABLES = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'API_TOKEN',
  'ALERT_WEBHOOK_TOKEN',
  'STATUSPAGE_API_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** The password inside a `redis://user:password@host` URL (or several, comma-separated). */
function urlPasswords(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text.split(',').flatMap((part) => {
    try {
      const password = new URL(part.trim()).password;
      return password === '' ? [] : [decodeURIComponent(password)];
    } catch {
      return [];
    }
  });
}

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
