/** pino JSON logs with secrets redacted wherever they may appear in a logged object. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

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

export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  const options = { level, base: { app: 'rollback-bot' }, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that drops everything, for components whose caller has nothing to say. */
export const silentLogger: Logger = pino({ level: 'silent' });
