/** pino JSON logs with secrets redacted wherever they may appear in a logged object. */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type { SecretMask } from '../domain/secret-mask.js';

export type { Logger } from 'pino';

const REDACT = [
  '*.token',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'config.slackBotToken',
  'config.slackSigningSecret',
  'config.slackAppToken',
  'config.alertWebhookToken',
  'config.apiToken',
  'config.statuspageApiKey',
];

/**
 * `secrets` masks every line as it is written, whatever object or message carried the value (an
 * error from a peer that echoed a token, a step's output): redaction by path only knows the paths.
 */
export function createLogger(
  level: LevelWithSilent = 'info',
  destination?: pino.DestinationStream,
  secrets?: SecretMask,
): Logger {
  const options = { level, base: { app: 'rollback-bot' }, redact: { paths: REDACT, censor: '[redacted]' } };
  if (secrets === undefined) return destination ? pino(options, destination) : pino(options);
  const out = destination ?? pino.destination({ fd: 1, sync: true });
  return pino(options, {
    write: (line: string) => {
      out.write(secrets.text(line));
    },
  });
}

/** A logger that drops everything, for components whose caller has nothing to say. */
export const silentLogger: Logger = pino({ level: 'silent' });
