/**
 * What a failed Web API call means to whoever would try it again. Slack's own trouble (429, 5xx, no
 * answer, `internal_error`) passes: the same call may be taken later. An error Slack gives about the
 * call itself (a channel that is gone, blocks it refuses) will be given again however often it is
 * sent: retrying it only delays what follows.
 */
import { ErrorCode } from '@slack/web-api';
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
