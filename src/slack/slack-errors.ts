/**
 * What a failed Web API call means to whoever would try it again. Slack's own trouble (429, 5xx, no
 * answer, `internal_error`) passes: the same call may be taken later. An error Slack gives about the
 * call itself (a channel that is gone, blocks it refuses) will be given again however often it is
 * sent: retrying it only delays what follows.
 */
import { ErrorCode } from '@slack/web-api';
import { RollbackError } from '../lib/errors.js';
import { networkError } from '../lib/text.js';

/** Platform errors that are Slack's trouble, not the call's. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

export interface SlackFailure {
  /** The same call may succeed later. */
  retryable: boolean;
  /** One line, fit for a log and (escaped) for the thread. */
  message: string;
  /** Slack's error code for a platform error (`invalid_blocks`, `channel_not_found`). */
  error?: string;
  /** How long Slack asked to wait (429). */
  retryAfterMs?: number;
}

export function slackFailure(error: unknown): SlackFailure {
  const coded = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    data?: { error?: unknown };
    retryAfter?: unknown;
    statusCode?: unknown;
    headers?: Record<string, string>;
  };
  switch (coded.code) {
    case ErrorCode.PlatformError: {
      const code = typeof coded.data?.error === 'string' ? coded.data.error : 'unknown_error';
      return { retryable: TRANSIENT_ERRORS.has(code), message: `Slack answered ${code}`, error: code };
    }
    case ErrorCode.RateLimitedError: {
      const seconds = Number(coded.retryAfter);
      return {
        retryable: true,
        message: 'Slack is limiting the rate of the bot',
        ...(Number.isFinite(seconds) ? { retryAfterMs: seconds * 1_000 } : {}),
      };
    }
    case ErrorCode.HTTPError: {
      const seconds = Number(coded.headers?.['retry-after']);
      return {
        retryable: true,
        message: `Slack answered HTTP ${String(coded.statusCode)}`,
        ...(Number.isFinite(seconds) && seconds > 0 ? { retryAfterMs: seconds * 1_000 } : {}),
      };
    }
    default:
      return { retryable: true, message: `Slack could not be reached: ${networkError(error)}` };
  }
}

/** Slack refused the message for its blocks: it will refuse them however often they are sent. */
const BLOCKS_REFUSED: ReadonlySet<string> = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_blocks_too_long',
]);

export function blocksRefused(failure: SlackFailure): boolean {
  return failure.error !== undefined && BLOCKS_REFUSED.has(failure.error);
}

/**
 * Slack is limiting or not answering the bot: the call may be made again later (an effect's retry,
 * a background retry), not given up.
 */
export class SlackUnavailableError extends RollbackError {
  /** How long Slack asked to wait, when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(failure: SlackFailure, cause: unknown) {
    super({
      code: 'slack_unavailable',
      userMessage: `${failure.message}; it will be tried again.`,
      retryable: true,
      cause,
    });
    this.retryAfterMs = failure.retryAfterMs;
  }
}

/** The error to rethrow for a failed call: Slack's own trouble becomes a `SlackUnavailableError`. */
export function slackError(error: unknown): unknown {
  if (error instanceof SlackUnavailableError) return error;
  const failure = slackFailure(error);
  return failure.retryable ? new SlackUnavailableError(failure, error) : error;
}
