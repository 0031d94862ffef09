/**
 * The SNS topic of the plan (`communications.sns`) or of its Communications manifest: one publish
 * per effect, with the event, service, environment and rollback (or, for an incident an alert
 * opened, the incident) as attributes for subscription filters. SNS itself drops repeats only on FIFO topics, so the publish runs under `once`.
 */
import { escapeMrkdwn } from '../../../slack/blocks/text.js';
import { heardEvent, STAKEHOLDER_EVENTS, type StakeholderTarget } from '../../target.js';
import { communicationEventOf } from '../../templates/index.js';
import type { SnsPublisher } from './publisher.js';

export interface SnsSettings {
  topicArn: string;
  events?: readonly string[] | undefined;
}

export function snsTarget(sns: SnsPublisher): StakeholderTarget<SnsSettings> {
  return {
    kind: 'sns',
    template: 'sns',
    defaultEvents: STAKEHOLDER_EVENTS,
    mayHear: (detail) => communicationEventOf(detail) !== null,
    settingsOf(plan, policy) {
      // The plan's own topic wins over its manifest's; the events are the manifest's either way.
      const topicArn = plan.communications?.sns?.topicArn ?? policy?.targets.sns?.topicArn;
      return topicArn === undefined ? undefined : { topicArn, events: policy?.targets.sns?.events };
    },
    hears: (notice, settings) => heardEvent(notice, settings.events, STAKEHOLDER_EVENTS),
    async deliver(notice, rendered, settings, context) {
      const { subject } = notice;
      const { topicArn } = settings;
      // `sns`: the key's part before targets had kinds, so earlier publishes still count.
      await context.once(
        'sns',
        async () => {
          await sns.publish({
            topicArn,
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
          });
        },
        (error) => {
          const reason =
            error instanceof Error && 'userMessage' in error ? String(error.userMessage) : String(error);
          context.log.warn(
            { err: error, topicArn, [`${subject.kind}Id`]: subject.id },
            'SNS stakeholders not told',
          );
          context.report(`SNS stakeholders were not told (${rendered.event}): ${escapeMrkdwn(reason)}`);
        },
      );
    },
  };
}
