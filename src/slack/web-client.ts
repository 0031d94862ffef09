/**
 * The bot's own Slack Web API client: Slack's URL (the simulator's in tests and the demo), the
 * masking fetch every call goes through, Bolt's logger over pino, and how a call fails.
 *
 * A call fails fast (`SLACK_CALL_POLICY`): a 429 is handed back at once with its Retry-After, a call
 * Slack does not answer is cut after `timeout`, and a 5xx or a dropped connection is tried once more.
 * The waiting belongs to whoever can wait without holding anything: an effect's redelivery, the
 * stakeholder outbox, a background retry. The Web API client's own default instead waits inside the
 * call, up to about 30 minutes, and pauses every other call while a 429 lasts: a role lookup for a
 * click queued behind a limited chat.update, a worker slot held, and a post outliving its once-claim
 * (`ONCE_CLAIM_TTL_MS`, 30 s), so that another replica posts it a second time.
 */
import { WebClient, type FetchFunction, type WebClientOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import { boltLogger } from './bolt-logger.js';

/** At most 8 s + 0.5 s + 8 s for one call: well inside a once-claim's 30 s. */
export const SLACK_CALL_POLICY = {
  rejectRateLimitedCalls: true,
  timeout: 8_000,
  retryConfig: { retries: 1, factor: 1, minTimeout: 500, maxTimeout: 500 },
} as const satisfies WebClientOptions;

/** The policy, with the retry count given (the tests and the demo retry nothing: 0). */
export function slackCallPolicy(retries?: number, timeoutMs?: number): WebClientOptions {
  return {
    ...SLACK_CALL_POLICY,
    timeout: timeoutMs ?? SLACK_CALL_POLICY.timeout,
    retryConfig: {
      ...SLACK_CALL_POLICY.retryConfig,
      retries: retries ?? SLACK_CALL_POLICY.retryConfig.retries,
    },
  };
}

export function slackWebClient(options: {
  token: string;
  apiUrl: string;
  fetch: FetchFunction;
  log: Logger;
  /** Retries of a call Slack failed (default: `SLACK_CALL_POLICY`'s one). */
  retries?: number | undefined;
  /** How long a call may go unanswered (default: `SLACK_CALL_POLICY`'s). */
  timeoutMs?: number | undefined;
}): WebClient {
  return new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    fetch: options.fetch,
    logger: boltLogger(options.log),
    ...slackCallPolicy(options.retries, options.timeoutMs),
  });
}
