/** Failures after the ack reach the user as a plain sentence with a reference id; the log has the rest. */
import { randomBytes } from 'node:crypto';
import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { RollbackError } from '../lib/errors.js';

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

/** How long a click is remembered, so a redelivery (or a double click) is acted on once. */
export const CLICK_MEMORY_MS = 24 * 60 * 60_000;

/** The key under which a click is remembered: Slack's action time, the clicker and the button. */
export const clickKey = (body: BlockAction<ButtonAction>, action: ButtonAction): string =>
  `slack-click:${action.action_ts}:${body.user.id}:${action.action_id}`;

/**
 * Answers the person who clicked, visible to them only, in the channel of the clicked message. Best
 * effort: what the click did is decided and stored before the answer, so an answer Slack will not
 * deliver (the clicker left the channel, a payload naming no channel) is logged, not a failure.
 */
export function tellClicker(
  body: BlockAction<ButtonAction>,
  client: WebClient,
  log: Logger,
): (text: string, blocks?: unknown) => Promise<void> {
  const container = body.container as { channel_id?: unknown } | null | undefined;
  const channel = body.channel?.id ?? container?.channel_id;
  return async (text, blocks) => {
    if (typeof channel !== 'string') return;
    try {
      await client.chat.postEphemeral({
        channel,
        user: body.user.id,
        text,
        ...(blocks ? { blocks: blocks as never } : {}),
      });
    } catch (error) {
      log.warn({ err: error, channel, user: body.user.id }, 'could not answer the clicker');
    }
  };
}
