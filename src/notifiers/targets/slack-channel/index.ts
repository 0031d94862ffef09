/**
 * The stakeholder Slack channels of the Communications manifest (`targets.slack.channels`): each
 * channel gets the rendered message as a plain post, once per effect and channel.
 */
import { channelMention } from '../../../slack/blocks/text.js';
import { heardEvent, STAKEHOLDER_EVENTS, type StakeholderTarget } from '../../target.js';
import { communicationEventOf } from '../../templates/index.js';

export interface SlackChannelSettings {
  channels: readonly string[];
  events?: readonly string[] | undefined;
}

export interface SlackPoster {
  postMessage(args: { channel: string; text: string }): Promise<unknown>;
}

export function slackChannelTarget(slack: SlackPoster): StakeholderTarget<SlackChannelSettings> {
  return {
    kind: 'slack',
    template: 'slack',
    defaultEvents: STAKEHOLDER_EVENTS,
    mayHear: (detail) => communicationEventOf(detail) !== null,
    settingsOf: (_plan, policy) => policy?.targets.slack,
    hears: (notice, settings) => heardEvent(notice, settings.events, STAKEHOLDER_EVENTS),
    async deliver(notice, rendered, settings, context) {
      const { subject } = notice;
      for (const channel of settings.channels) {
        const notTold = (error: unknown): void => {
          context.log.warn(
            { err: error, channel, [`${subject.kind}Id`]: subject.id },
            'stakeholder channel not told',
          );
          context.report(
            `The stakeholder channel ${channelMention(channel)} could not be told (${rendered.event}).`,
          );
        };
        // Keyed by the channel alone (`<effectId>:<channel>`), as before targets had kinds: the
        // records of effects posted by the previous release still count as posted.
        await context
          .once(
            channel,
            async () => {
              await slack.postMessage({ channel, text: rendered.text });
            },
            notTold,
          )
          .catch(notTold);
      }
    },
  };
}
