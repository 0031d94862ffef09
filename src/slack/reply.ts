/** Failures after the ack reach the user as a plain sentence with a reference id; the log has the rest. */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { RollbackError } from '../errors.js';

export const referenceId = (): string => randomBytes(4).toString('hex');

/** Logs the failure under a fresh reference id and returns the sentence to show the user. */
export function explainFailure(
  log: Logger,
  error: unknown,
  context: Record<string, unknown>,
): { message: string; reference: string } {
  const reference = referenceId();
  log.error({ err: error, reference, ...context }, 'Slack request failed after the ack');
  const message =
    error instanceof RollbackError
      ? error.userMessage
      : 'Something went wrong on the bot side; nothing was changed by this request. Try again, or give this reference to whoever runs the bot.';
  return { message, reference };
}
