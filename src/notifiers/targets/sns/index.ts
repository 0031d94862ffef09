/**
 * The SNS topic of the plan (`communications.sns`) or of its Communications manifest: one publish
 * per effect, with the event, service, environment and rollback (or, for an incident an alert
 * opened, the incident) as attributes for subscription filters. The topic is the lane: its messages
 * go out in order. SNS itself drops repeats only on FIFO topics, so the publish runs under `once`.
 */
import { z } from 'zod';
import { escapeMrkdwn } from '../../../slack/blocks/text.js';
import { heardEvent, STAKEHOLDER_EVENTS, type StakeholderTarget } from '../../target.js';
import { communicationEventOf } from '../../templates/index.js';
import { SnsPublishError, type SnsPublisher } from './publisher.js';

export interface SnsSettings {
  topicArn: string;
  events?: readonly string[] | undefined;
}

const publish = z.object({
  topicArn: z.string(),
  subject: z.string(),
  message: z.string(),
  attributes: z.record(z.string(), z.string()),
  dedupeKey: z.string(),
  groupKey: z.string().optional(),
});
type Publish = z.infer<typeof publish>;

export function snsTarget(sns: SnsPublisher): StakeholderTarget<SnsSettings, Publish> {
  return {
    kind: 'sns',
    template: 'sns',
    defaultEvents: STAKEHOLDER_EVENTS,
    spacingMs: 0,
    body: publish,
    mayHear: (detail) => communicationEventOf(detail) !== null,
    settingsOf(plan, policy) {
      // The plan's own topic wins over its manifest's; the events are the manifest's either way.
      const topicArn = plan.communications?.sns?.topicArn ?? policy?.targets.sns?.topicArn;
      return topicArn === undefined ? undefined : { topicArn, events: policy?.targets.sns?.events };
    },
    hears: (notice, settings) => heardEvent(notice, settings.events, STAKEHOLDER_EVENTS),
    messages(notice, rendered, settings) {
      const { subject } = notice;
      return [
        {
          lane: settings.topicArn,
          // `sns`: the key's part before targets had kinds, so earlier publishes still count.
          part: 'sns',
          body: {
            topicArn: settings.topicArn,
            subject: rendered.subject,
            message: rendered.text,
            attributes: {
              event: rendered.event,
              service: subject.service,
              environment: subject.environment,
              // `rollbackId`, or `incidentId` for an incident no rollback belongs to yet.
              [`${subject.kind}Id`]: subject.id,
            },
            dedupeKey: notice.effectId,
            groupKey: subject.id,
          },
        },
      ];
    },
    async send(message, context) {
      try {
        const ran = await context.once(async () => {
          await context.ready();
          await sns.publish(message);
        });
        return ran === 'busy'
          ? { kind: 'busy', message: 'another process is publishing it' }
          : { kind: 'sent' };
      } catch (error) {
        const reason = error instanceof SnsPublishError ? error.userMessage : String(error);
        return error instanceof SnsPublishError && !error.retryable
          ? { kind: 'refused', message: reason }
          : { kind: 'failed', message: reason };
      }
    },
    label: (message) => `SNS (topic ${escapeMrkdwn(topicName(message.topicArn))})`,
    failure: (message, reason) =>
      `SNS stakeholders were not told (${escapeMrkdwn(message.attributes['event'] ?? 'message')}): ${reason}`,
  };
}

const topicName = (arn: string): string => arn.split(':').at(-1) ?? arn;
