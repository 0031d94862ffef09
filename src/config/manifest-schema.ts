/**
 * The YAML manifests users write (DESIGN section 5), as zod schemas. The descriptions are the
 * reference documentation: they go into the published JSON Schema that editors use. Durations are
 * parsed to milliseconds here; executor parameters (`with`) are checked by each executor's own
 * schema in a later pass, and cross-document references in `cross-checks.ts`.
 */
import { z } from 'zod';
import { CRITICALITIES, STABILIZE_DEFAULTS, WATCH_EVERY_DEFAULT_MS } from '../domain/plan.js';
import { formatDuration } from '../domain/duration.js';
import { CONDITION_PATTERN, parseCondition } from '../domain/step-condition.js';
import type { ExecutorRegistry } from '../executors/registry.js';
import { duration, nonEmptyText, strictObject } from '../schema/zod-kit.js';
import { communicationsSpec, planCommunications } from './communications-schema.js';

export const API_VERSION = 'rollback-bot/v1';
export const KINDS = ['RollbackPlan', 'AuthorityPolicy', 'Communications'] as const;
export type ManifestKind = (typeof KINDS)[number];

const stepParams = z
  .record(z.string(), z.unknown())
  .default({})
  .describe("The executor's parameters; see the executor's documentation. Secrets only as ${env:NAME}.");

/** `when`: parsed here into `{ ref, negate, text }`; the reference itself is checked in cross-checks.ts. */
const stepCondition = z
  .string({ error: 'must be a text such as "{{ steps.<id>.output.<key> }}"' })
  .transform((text, ctx) => {
    const parsed = parseCondition(text);
    if (parsed.ok) return parsed.condition;
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  })
  .meta({
    description:
      'Run the step only if this is true when the rollback reaches it: exactly one reference, "{{ steps.<id>.output.<key> }}" (an earlier step\'s output) or a template variable, or "{{ !... }}" for its opposite. False: no value, "", "false", "no" or "0" (any case); anything else is true. A false condition skips the step.',
    pattern: CONDITION_PATTERN,
  });

const step = strictObject({
  name: nonEmptyText('What the step does, as shown in Slack.'),
  id: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, { error: 'must be kebab-case, e.g. take-backup' })
    .optional()
    .describe('Name used by later steps in {{ steps.<id>.output.<key> }} (default: the name in kebab-case).'),
  uses: nonEmptyText(
    'Executor kind, e.g. http, command, kubernetes, ecs or healthcheck; each kind and its parameters are in docs/plan-reference.md.',
  ),
  with: stepParams,
  onFailure: z
    .enum(['ask', 'abort', 'retry'])
    .default('ask')
    .describe(
      'When the step fails: ask a human (Retry / Skip / Abort), abort the rollback, or retry then ask.',
    ),
  retries: z
    .int()
    .min(1)
    .max(10)
    .optional()
    .describe('Retries for onFailure: retry (default 2).')
    .meta({ examples: [3] }),
  database: z
    .boolean()
    .default(false)
    .describe('The step changes a database: the rollback always waits for a human approval.'),
  when: stepCondition.optional(),
});

const afterStep = strictObject({
  name: nonEmptyText('What the step does, as shown in Slack.'),
  id: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, { error: 'must be kebab-case, e.g. scale-down-blue' })
    .optional()
    .describe(
      'Name used by later steps after resolution in {{ steps.<id>.output.<key> }} (default: the name in kebab-case).',
    )
    .meta({ examples: ['scale-down-blue'] }),
  uses: nonEmptyText('Executor kind, e.g. command, http, kubernetes, ecs or aws-autoscaling.'),
  with: stepParams,
  delay: duration(
    'How long after the resolution the step runs (default 0s). Steps run in list order: a step never starts before the one above it ended.',
  ).prefault('0s'),
});

const check = strictObject({
  name: nonEmptyText('What is checked, as shown in Slack.'),
  uses: nonEmptyText('Executor kind, usually healthcheck, prometheus or manual.'),
  with: stepParams,
});

const strategy = strictObject({
  steps: z
    .array(step)
    .min(1)
    .describe('Run one after another; a failed step stops the rollback per onFailure.'),
  validate: z.array(check).default([]).describe('Checks that must all pass after the steps.'),
  watch: z
    .array(check)
    .default([])
    .describe(
      'Key metrics sampled while the steps run (prometheus, healthcheck, http ... checks): one that fails holds the next step until a human says continue or abort.',
    ),
  watchEvery: duration(
    `How often the watch checks are sampled while the steps run (default ${formatDuration(WATCH_EVERY_DEFAULT_MS)}).`,
  ).prefault(formatDuration(WATCH_EVERY_DEFAULT_MS)),
  after: z
    .array(afterStep)
    .default([])
    .describe(
      'Steps run after the rollback is resolved, each `delay` after the resolution (e.g. scale the old colour down 5m after the switch), on durable timers. A failure is reported in the thread and stops the ones below it; the rollback stays resolved. A new rollback of the same service and environment calls them off.',
    ),
  stabilize: z
    .union([
      duration('How long the service must stay healthy after validation (default 0s).'),
      strictObject({
        for: duration('How long the service must stay healthy after validation.'),
        interval: duration(
          `How often the automatic checks run again during the window (default ${formatDuration(STABILIZE_DEFAULTS.everyMs)}).`,
        ).prefault(formatDuration(STABILIZE_DEFAULTS.everyMs)),
        failureLimit: z
          .int()
          .min(0)
          .default(STABILIZE_DEFAULTS.failureLimit)
          .describe(
            `Failed check runs tolerated during the window (default ${STABILIZE_DEFAULTS.failureLimit}); one more, or an inconclusive run, ends it and asks.`,
          ),
      }),
    ])
    .prefault('0s')
    .describe(
      'The stabilisation window after validation: a duration, or { for, interval, failureLimit }. Through the window the automatic checks run again every interval, and a firing alert for the service ends it.',
    ),
});

const trigger = strictObject({
  name: nonEmptyText('Trigger name, shown in the incident thread.'),
  match: z
    .record(z.string(), z.string())
    .refine((labels) => Object.keys(labels).length > 0, { error: 'must name at least one label' })
    .describe('Alert labels that must all be equal for the trigger to apply.'),
  action: z
    .enum(['propose', 'auto'])
    .default('propose')
    .describe('propose: offer the rollback in the thread; auto: start it after delay unless cancelled.'),
  strategy: nonEmptyText('Strategy to use (default: defaultStrategy).').optional(),
  delay: duration('For action: auto, how long humans have to cancel before it starts.').optional(),
});

/**
 * A service or environment name: the deployment freeze keys its records `service/environment` and
 * reads `*` as every service or environment, so neither may hold those.
 */
const freezableName = (what: 'service' | 'environment', description: string) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .regex(/^(?!\*$)[^/]*$/, {
      error: `${what} names must not be "*" or contain "/": the deployment freeze uses "*" for every ${what} and "/" between service and environment`,
    })
    .describe(description);

/** A Slack user or user group id, as the bot mentions it. */
const SLACK_PRINCIPAL = /^[UWS][A-Z0-9]{2,}$/;
const MAX_CONTACTS = 20;

const contact = strictObject({
  name: nonEmptyText('Who: a person, a role or a team (e.g. "Incident commander: Ana").'),
  slack: z
    .string()
    .regex(SLACK_PRINCIPAL, {
      error: 'must be a Slack user id (U...) or user group id (S...): the card mentions it',
    })
    .optional()
    .describe('Slack user id (U...) or user group id (S...).'),
  phone: nonEmptyText('Phone number or pager text, shown as written.').optional(),
});

const links = strictObject({
  runbook: nonEmptyText('Runbook: a URL, or where it lives (s3://bucket/runbooks/service/).').optional(),
  dashboard: nonEmptyText('Monitoring dashboard URL.').optional(),
  logs: nonEmptyText('Logs: a URL, or a location such as a CloudWatch log group.').optional(),
}).describe(
  "Where responders look (seed 002's critical resources), shown on the card and in /rollback plan.",
);

const metadata = strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, {
      error: 'must be lowercase letters, digits, ".", "_" or "-"',
    })
    .describe('Unique name among manifests of the same kind.'),
  description: z.string().optional().describe('Free text for humans.'),
}).describe("The manifest's name (and an optional description).");

export const rollbackPlanSpec = strictObject({
  service: freezableName('service', "Service name, as in the alerts' `service` label; one plan per service."),
  channel: nonEmptyText('Slack channel id (C...) where incidents and status cards go.'),
  environments: z
    .array(freezableName('environment', 'Environment name.'))
    .min(1)
    .describe('Environments this plan covers.'),
  criticality: z
    .enum(CRITICALITIES)
    .describe(
      "low | medium | high | critical: shown in /rollback plan and stakeholder messages, and sets the status page's default component status (critical: major outage).",
    ),
  rto: duration(
    'Recovery time objective: how long the rollback may take. The card and stakeholders get an ETA (the declaration plus this); when it passes before the rollback ended, the thread says so and pages the next tier. Absent: no ETA.',
  ).optional(),
  rpo: duration('Recovery point objective: how much data loss is acceptable.').optional(),
  owner: nonEmptyText('Owning team, shown on the card and in /rollback plan.').optional(),
  contacts: z
    .array(contact)
    .max(MAX_CONTACTS)
    .default([])
    .describe('Who to reach during an incident, shown on the card and in /rollback plan.'),
  links: links.optional(),
  authority: nonEmptyText(
    'Name of the AuthorityPolicy that decides who may approve (default "default").',
  ).default('default'),
  defaultStrategy: nonEmptyText('Strategy used when a declaration or trigger names none.'),
  strategies: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'strategy names must be kebab-case' }),
      strategy,
    )
    .refine((all) => Object.keys(all).length > 0, { error: 'must define at least one strategy' })
    .describe('Ways to roll this service back, by name.'),
  triggers: z.array(trigger).default([]).describe('Alerts that propose or start a rollback.'),
  limitations: z
    .array(z.string())
    .default([])
    .describe(
      'Known limits shown on the status card, one sentence each (e.g. a migration that cannot be undone).',
    ),
  communications: planCommunications.optional(),
}).describe(
  'How one service is rolled back: where its incidents go, who may approve (authority), its strategies (steps, then checks), the alerts that trigger it, and who is told.',
);

const role = strictObject({
  name: nonEmptyText('Role name.'),
  members: strictObject({
    usergroup: nonEmptyText('Slack user group id (S...), resolved at click time.').optional(),
    users: z.array(nonEmptyText('Slack user id (U...).')).default([]).describe('Slack user ids.'),
  }).describe('Who holds the role: a Slack user group, explicit users, or both.'),
});

const tier = strictObject({
  after: duration('Time since the incident started from which this tier applies; the first is 0m.'),
  approver: nonEmptyText('Lowest role that may approve in this tier.'),
  notify: nonEmptyText('Role told when this tier begins.').optional(),
});

const approvalCount = z.int().min(1);

export const authorityPolicySpec = strictObject({
  roles: z
    .array(role)
    .min(1)
    .describe('Roles in rank order, lowest first; a higher role may do what a lower one may.'),
  tiers: z.array(tier).min(1).describe('Who may approve, by time since the incident started, ascending.'),
  selfApproval: z
    .boolean()
    .default(false)
    .describe('May the person who declared a rollback approve it (default false)?'),
  approvalsRequired: z
    .union([approvalCount, z.record(z.string(), approvalCount)])
    .default(1)
    .describe(
      'Approvals needed: a number, or per environment with `default` for the others, e.g. { default: 1, production: 2 }.',
    ),
  reminderEvery: duration('How often a pending approval is re-announced (default 5m).').prefault('5m'),
  expireAfter: duration('When an unapproved declaration expires (default 2h).').prefault('2h'),
}).describe(
  'Who may approve a rollback and who is told, by time since the incident started (the authority matrix). Plans name it in `authority`.',
);

const apiVersion = z.literal(API_VERSION).describe(`Always ${API_VERSION}.`);
const KIND_DESCRIPTION = 'What the document is: RollbackPlan, AuthorityPolicy or Communications.';

function manifest<Kind extends ManifestKind, Spec extends z.ZodType>(kind: Kind, spec: Spec) {
  return strictObject({
    apiVersion,
    kind: z.literal(kind).describe(KIND_DESCRIPTION),
    metadata,
    spec,
  });
}

/** What every manifest starts with, whatever its kind: the plan reference documents it once. */
export const manifestEnvelope = strictObject({
  apiVersion,
  kind: z.enum(KINDS).describe(KIND_DESCRIPTION),
  metadata,
});

export const rollbackPlanManifest = manifest('RollbackPlan', rollbackPlanSpec);
export const authorityPolicyManifest = manifest('AuthorityPolicy', authorityPolicySpec);
export const communicationsManifest = manifest('Communications', communicationsSpec);

export const manifestSchemas = {
  RollbackPlan: rollbackPlanManifest,
  AuthorityPolicy: authorityPolicyManifest,
  Communications: communicationsManifest,
} as const;

export type RollbackPlanManifest = z.output<typeof rollbackPlanManifest>;
export type AuthorityPolicyManifest = z.output<typeof authorityPolicyManifest>;
export type CommunicationsManifest = z.output<typeof communicationsManifest>;
export type StepManifest = z.output<typeof step>;
export type CheckManifest = z.output<typeof check>;
export type AfterStepManifest = z.output<typeof afterStep>;

/**
 * The JSON Schema published for editors (`rollback-bot schema`): what users may write. Each step's
 * `with` is described by its executor's parameter schema, chosen by `uses`.
 */
export function manifestJsonSchema(registry: ExecutorRegistry): Record<string, unknown> {
  const anyManifest = z
    .discriminatedUnion('kind', [rollbackPlanManifest, authorityPolicyManifest, communicationsManifest])
    .describe('A rollback-bot manifest: RollbackPlan, AuthorityPolicy or Communications.');
  const paramsByKind = registry.kinds().map((kind) => ({
    if: { properties: { uses: { const: kind } }, required: ['uses'] },
    then: { properties: { with: jsonSchemaOf(registry.get(kind)!.params) } },
  }));
  const schema = z.toJSONSchema(anyManifest, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === step || zodSchema === check) jsonSchema.allOf = paramsByKind;
    },
  });
  return { ...schema, title: `rollback-bot manifest (apiVersion ${API_VERSION})` };
}

function jsonSchemaOf(params: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(params, { io: 'input', unrepresentable: 'any' });
  return schema;
}
