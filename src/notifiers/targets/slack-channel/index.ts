/**
 * The stakeholder Slack channels of the Communications manifest (`targets.slack.channels`): each
 * channel gets the rendered message as a plain post, once per effect and channel. A channel is a
 * lane of its own: one that is gone does not hold up another.
 */
import { z } from 'zod';
import { channelMention } from '../../../slack/blocks/text.js';
import { slackFailure } from '../../../slack/slack-errors.js';
import { heardEvent, STAKEHOLDER_EVENTS, type StakeholderTarget } from '../../target.js';
import { communicationEventOf } from '../../templates/index.js';

export interface SlackChannelSettings {
  channels: readonly string[];
  events?: readonly string[] | undefined;
}

export interface SlackPoster {
  postMessage(args: { channel: string; text: string }): Promise<unknown>;
}

const post = z.object({ channel: z.string(), text: z.string(), event: z.string() });
type ChannelPost = z.infer<typeof post>;

export function slackChannelTarget(slack: SlackPoster): StakeholderTarget<SlackChannelSettings, ChannelPost> {
  return {
    kind: 'slack',
    template: 'slack',
    defaultEvents: STAKEHOLDER_EVENTS,
    spacingMs: 0,
    body: post,
    mayHear: (detail) => communicationEventOf(detail) !== null,
    settingsOf: (_plan, policy) => policy?.targets.slack,
    hears: (notice, settings) => heardEvent(notice, settings.events, STAKEHOLDER_EVENTS),
    // Part: the channel alone (`<effectId>:<channel>`), as before targets had kinds, so the once
    // records of what the previous release posted still count.
    messages: (_notice, rendered, settings) =>
      settings.channels.map((channel) => ({
        lane: channel,
        part: channel,
        body: { channel, text: rendered.text, event: rendered.event },
      })),
    async send(message, context) {
      try {
        const ran = await context.once(async () => {
          await context.ready();
          await slack.postMessage({ channel: message.channel, text: message.text });
        });
        return ran === 'busy' ? { kind: 'busy', message: 'another process is posting it' } : { kind: 'sent' };
      } catch (error) {
        const failure = slackFailure(error);
        return failure.retryable
          ? { kind: 'failed', message: failure.message, retryAfterMs: failure.retryAfterMs }
          : { kind: 'refused', message: failure.message };
      }
    },
    label: (message) => `The stakeholder channel ${channelMention(message.channel)}`,
    failure: (message, reason) =>
      `The stakeholder channel ${channelMention(message.channel)} could not be told (${message.event}): ${reason}.`,
  };
}
