/** What a failed Web API call means to whoever would make it again. */
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import {
  blocksRefused,
  slackError,
  slackFailure,
  SlackUnavailableError,
} from '../../../src/slack/slack-errors.js';

const platform = (error: string) => new WebAPIPlatformError({ ok: false, error });

describe('slackFailure', () => {
  it('passes what is Slack’s trouble: 429 (with its wait), 5xx, no answer, internal errors', () => {
    expect(slackFailure(new WebAPIRateLimitedError(30))).toEqual({
      retryable: true,
      message: 'Slack is limiting the rate of the bot',
      retryAfterMs: 30_000,
    });
    expect(slackFailure(new WebAPIHTTPError(503, 'Service Unavailable', { 'retry-after': '5' }, ''))).toEqual(
      {
        retryable: true,
        message: 'Slack answered HTTP 503',
        retryAfterMs: 5_000,
      },
    );
    expect(slackFailure(new WebAPIRequestError(new Error('socket hang up')))).toMatchObject({
      retryable: true,
    });
    expect(slackFailure(platform('internal_error'))).toMatchObject({
      retryable: true,
      error: 'internal_error',
    });
  });

  it('does not pass what Slack says about the call itself; blocks refused are told apart', () => {
    expect(slackFailure(platform('channel_not_found'))).toEqual({
      retryable: false,
      message: 'Slack answered channel_not_found',
      error: 'channel_not_found',
    });
    expect(blocksRefused(slackFailure(platform('invalid_blocks')))).toBe(true);
    expect(blocksRefused(slackFailure(platform('msg_blocks_too_long')))).toBe(true);
    expect(blocksRefused(slackFailure(platform('not_in_channel')))).toBe(false);
  });

  it('slackError types Slack’s trouble as SlackUnavailableError and leaves a refusal as it is', () => {
    const limited = slackError(new WebAPIRateLimitedError(2));
    expect(limited).toBeInstanceOf(SlackUnavailableError);
    expect(limited).toMatchObject({ code: 'slack_unavailable', retryable: true, retryAfterMs: 2_000 });
    const refused = platform('channel_not_found');
    expect(slackError(refused)).toBe(refused);
  });
});
