/**
 * Who is told what (DESIGN section 7). A `Communications` manifest names message templates per
 * event and the targets they go to; a plan points at one with `communications.use` and may add
 * its own SNS topic, status page and template overrides. Without any, only Slack is told.
 *
 * Templates are Handlebars text (`{{ service }}`); a template is either one text for every target
 * or one per target (`slack`, `sns`, `statuspage`).
 */
import { z } from 'zod';
import { duration, nonEmptyText, strictObject, unknownKeys } from '../schema/zod-kit.js';

import { COMMUNICATION_EVENTS } from '../domain/communications.js';
import { OUTAGE_STATUSES } from '../domain/plan.js';

export const TARGETS = ['slack', 'sns', 'statuspage'] as const;

const templateText = z
  .string()
  .min(1)
  .describe('Handlebars text, e.g. "Rolled back {{ service }} to {{ toVersion }}".')
  .meta({ examples: ['Rolled back {{ service }} to {{ toVersion }}.'] });

const template = z
  .union([
    templateText,
    strictObject({
      slack: templateText.optional(),
      sns: templateText.optional(),
      statuspage: templateText.optional(),
    }),
  ])
  .describe('One text for every target, or one per target.');

const templates = z
  .partialRecord(z.enum(COMMUNICATION_EVENTS), template, { error: unknownKeys(COMMUNICATION_EVENTS) })
  .describe(`Templates by event: ${COMMUNICATION_EVENTS.join(', ')}.`);

const events = z
  .array(z.enum(COMMUNICATION_EVENTS))
  .min(1)
  .optional()
  .describe('Events sent to this target (default: all that have a template).')
  .meta({ examples: [['incident-opened', 'resolved', 'failed']] });

const topicArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/, {
    error: 'must be an SNS topic ARN, e.g. arn:aws:sns:us-east-1:123456789012:stakeholders',
  })
  .describe('SNS topic that stakeholders subscribe to (a FIFO topic, name ending in .fifo, drops repeats).');
const pageId = nonEmptyText('Statuspage page id.');
const componentIds = z
  .array(nonEmptyText('Component id.'))
  .default([])
  .describe('Components whose status follows the rollback.');

const snsTarget = strictObject({ topicArn, events }).describe(
  'An SNS topic that stakeholders (email, SMS, chat bridges) subscribe to.',
);
const statuspageTarget = strictObject({ pageId, componentIds, events }).describe(
  'A Statuspage page: an incident is opened, updated and resolved, and the components follow it (needs STATUSPAGE_API_KEY).',
);

const slackTarget = strictObject({
  channels: z
    .array(nonEmptyText('Slack channel id (C...).'))
    .min(1)
    .describe("Channels told besides the plan's own channel and thread, e.g. a stakeholders channel."),
  events,
}).describe("Slack channels told besides the plan's own channel, e.g. a stakeholders channel.");

export const communicationsSpec = strictObject({
  targets: strictObject({
    slack: slackTarget.optional(),
    sns: snsTarget.optional(),
    statuspage: statuspageTarget.optional(),
  })
    .default({})
    .describe("Where messages go besides the plan's Slack thread."),
  templates: templates.default({}),
  updateEvery: duration('How often a periodic update is posted while a rollback runs (default 5m).').prefault(
    '5m',
  ),
}).describe(
  'Who is told what, shared by plans (`communications.use`): stakeholder targets and message templates per event.',
);

/** The `communications` block of a RollbackPlan. */
export const planCommunications = strictObject({
  use: nonEmptyText('Name of a Communications manifest whose targets and templates apply.')
    .meta({ examples: ['stakeholders'] })
    .optional(),
  sns: strictObject({ topicArn })
    .optional()
    .describe("This plan's own SNS topic, told besides the Communications manifest's targets."),
  statuspage: strictObject({
    pageId,
    componentIds,
    componentStatus: z
      .enum(OUTAGE_STATUSES)
      .optional()
      .describe(
        "Component status (and incident impact) while the incident is open; default from the plan's criticality: critical major_outage, high partial_outage, medium and low degraded_performance.",
      ),
  })
    .optional()
    .describe("This plan's own Statuspage page and components (needs STATUSPAGE_API_KEY)."),
  templates: z
    .partialRecord(z.enum(COMMUNICATION_EVENTS), templateText, { error: unknownKeys(COMMUNICATION_EVENTS) })
    .optional()
    .describe('Template overrides for this plan, one text per event for every target.')
    .meta({ examples: [{ resolved: 'Checkout is back on {{ toVersion }}; payments flow again.' }] }),
}).describe("Who is told besides the plan's channel; only Slack when absent.");
