/**
 * The bot's own Slack Web API client: Slack's URL (the simulator's in tests and the demo), the
 * masking fetch every call goes through, Bolt's logger over pino, and the retry count.
 */
import { WebClient, type FetchFunction } from '@slack/web-api';
import type { Logger } from 'pino';
import { boltLogger } from './bolt-logger.js';

export function slackWebClient(options: {
  token: string;
  apiUrl: string;
  fetch: FetchFunction;
  log: Logger;
  /** Retries of a failed call (default: the Web API client's own). */
  retries?: number | undefined;
}): WebClient {
  return new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    fetch: options.fetch,
    logger: boltLogger(options.log),
    ...(options.retries === undefined ? {} : { retryConfig: { retries: options.retries } }),
  });
}
