/**
 * Which values of the bot's environment are secrets. Two places need the same answer: the start-up
 * mask (config/known-secrets.ts) and a `command` step that hands part of the environment to its
 * program (`inheritEnv`), whose output must not show what it was given.
 */

/**
 * The bot's own credentials. Masked everywhere, and never handed to a step's program through
 * `inheritEnv`: a script that could read the Slack token could speak as the bot. A plan that really
 * means to pass one writes it out as `env: { X: ${env:NAME} }`, where a reviewer sees it.
 */
export const BOT_CREDENTIAL_VARIABLES = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'API_TOKEN',
  'ALERT_WEBHOOK_TOKEN',
  'STATUSPAGE_API_KEY',
  'REDIS_URL',
] as const;

/**
 * Names that hold secrets by the usual conventions (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * GITHUB_TOKEN, PGPASSWORD, VAULT_TOKEN, NPM_AUTH...). A name decides, not the value: masking every
 * inherited value would hide `us-east-1` or `true` in every line the bot writes.
 */
const SECRET_NAME =
  /SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|ACCESS_KEY|API_?KEY|(?:^|_)KEY$|(?:^|_)AUTH(?:$|_|ORIZATION)|SESSION|COOKIE/i;

export const looksLikeSecretName = (name: string): boolean => SECRET_NAME.test(name);

/** The password inside a `scheme://user:password@host` URL (or several, comma-separated). */
export function urlPasswords(text: string | undefined): string[] {
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

/** What to mask of one environment variable: all of it when its name says secret, else any URL password in it. */
export function secretsOfVariable(name: string, value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return looksLikeSecretName(name) ? [value] : urlPasswords(value);
}
