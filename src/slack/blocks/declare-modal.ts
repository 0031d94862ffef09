/**
 * The `/rollback` modal (no arguments): service, environment, strategy, target version, reason.
 * The selects list what the plans offer; `parseDeclareSubmission` checks the combination against
 * the plans and returns field errors for `response_action: 'errors'`.
 */
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/web-api';
import { z } from 'zod';
import type { RollbackPlan } from '../../domain/plan.js';
import { findUnsafeCharacter } from '../../domain/untrusted-text.js';
import { parseVersion, VERSION_MAX, VERSION_RULE } from '../../domain/version.js';
import { LIMITS, plain } from './kit.js';
import { truncate } from './text.js';

export const DECLARE_CALLBACK_ID = 'rollback:declare';

/** block_id and action_id of each input: the view listener reads `state.values[block][action]`. */
export const DECLARE_FIELDS = {
  service: { block: 'declare_service', action: 'service' },
  environment: { block: 'declare_environment', action: 'environment' },
  strategy: { block: 'declare_strategy', action: 'strategy' },
  toVersion: { block: 'declare_to_version', action: 'to_version' },
  reason: { block: 'declare_reason', action: 'reason' },
} as const;

export interface DeclareDefaults {
  service?: string;
  environment?: string;
  strategy?: string;
  toVersion?: string;
  reason?: string;
  /** Passed through to the submission (e.g. the channel the command was typed in). */
  privateMetadata?: string;
}

export const REASON_MAX = 500;

const option = (value: string): PlainTextOption => ({
  text: plain(value, LIMITS.optionText),
  value: value.slice(0, LIMITS.optionValue),
});

const unique = (values: string[]): string[] => [...new Set(values)].sort();

function select(
  field: { block: string; action: string },
  label: string,
  values: string[],
  initial: string | undefined,
  optional: boolean,
  hint?: string,
): KnownBlock {
  const options = values.slice(0, LIMITS.options).map(option);
  const initialOption = options.find((o) => o.value === initial);
  return {
    type: 'input',
    block_id: field.block,
    optional,
    label: plain(label, LIMITS.inputLabel),
    ...(hint === undefined ? {} : { hint: plain(hint, LIMITS.inputLabel) }),
    element: {
      type: 'static_select',
      action_id: field.action,
      placeholder: plain(`Choose ${label.toLowerCase()}`, LIMITS.placeholder),
      options: options.length > 0 ? options : [option('(none)')],
      ...(initialOption === undefined ? {} : { initial_option: initialOption }),
    },
  };
}

function textInput(
  field: { block: string; action: string },
  label: string,
  options: {
    initial?: string;
    optional: boolean;
    multiline: boolean;
    max: number;
    placeholder: string;
    hint?: string;
  },
): KnownBlock {
  return {
    type: 'input',
    block_id: field.block,
    optional: options.optional,
    label: plain(label, LIMITS.inputLabel),
    ...(options.hint === undefined ? {} : { hint: plain(options.hint, LIMITS.inputLabel) }),
    element: {
      type: 'plain_text_input',
      action_id: field.action,
      multiline: options.multiline,
      max_length: options.max,
      placeholder: plain(options.placeholder, LIMITS.placeholder),
      ...(options.initial === undefined ? {} : { initial_value: options.initial.slice(0, options.max) }),
    },
  };
}

export function renderDeclareModal(plans: RollbackPlan[], defaults: DeclareDefaults = {}): ModalView {
  const services = unique(plans.map((p) => p.service));
  const environments = unique(plans.flatMap((p) => p.environments));
  const strategies = unique(plans.flatMap((p) => Object.keys(p.strategies)));
  return {
    type: 'modal',
    callback_id: DECLARE_CALLBACK_ID,
    title: plain('Declare a rollback', LIMITS.modalTitle),
    submit: plain('Declare', LIMITS.modalTitle),
    close: plain('Cancel', LIMITS.modalTitle),
    ...(defaults.privateMetadata === undefined ? {} : { private_metadata: defaults.privateMetadata }),
    blocks: [
      select(DECLARE_FIELDS.service, 'Service', services, defaults.service, false),
      select(
        DECLARE_FIELDS.environment,
        'Environment',
        environments,
        defaults.environment ?? 'production',
        false,
      ),
      select(
        DECLARE_FIELDS.strategy,
        'Strategy',
        strategies,
        defaults.strategy,
        true,
        "Leave empty for the plan's default strategy.",
      ),
      textInput(DECLARE_FIELDS.toVersion, 'Target version', {
        ...(defaults.toVersion === undefined ? {} : { initial: defaults.toVersion }),
        optional: true,
        multiline: false,
        max: VERSION_MAX,
        placeholder: 'v1.4.1',
        hint: 'Leave empty to roll back to the previous deployed version.',
      }),
      textInput(DECLARE_FIELDS.reason, 'Reason', {
        ...(defaults.reason === undefined ? {} : { initial: defaults.reason }),
        optional: false,
        multiline: true,
        max: REASON_MAX,
        placeholder: '5xx spike after the v1.5.0 deploy',
      }),
    ],
  };
}

export interface DeclareValues {
  service: string;
  environment: string;
  /** Null: the plan's default strategy. */
  strategy: string | null;
  /** Null: the previous deployed version. */
  toVersion: string | null;
  reason: string;
}

export type DeclareParse =
  | { ok: true; values: DeclareValues }
  /** Keyed by block_id, as `response_action: 'errors'` wants. */
  | { ok: false; errors: Record<string, string> };

/** The part of `view.state.values` the modal reads (Bolt's `ViewStateValue`, loosely). */
export type StateValues = Record<
  string,
  | Record<string, { value?: string | null; selected_option?: { value: string } | null } | undefined>
  | undefined
>;

const blank = (v: string | null | undefined): string | null => {
  const t = v?.trim();
  return t === undefined || t === '' ? null : t;
};

const submissionSchema = z.object({
  service: z.string({ error: 'Choose a service.' }),
  environment: z.string({ error: 'Choose an environment.' }),
  strategy: z.string().nullable(),
  toVersion: z
    .string()
    .transform((text, ctx) => {
      const version = parseVersion(text);
      if (version.ok) return version.version;
      // The problem first: a field error is cut at 150 characters.
      ctx.addIssue({ code: 'custom', message: `${capitalise(version.problem)}: ${VERSION_RULE}.` });
      return z.NEVER;
    })
    .nullable(),
  reason: z
    .string({ error: 'Say why: the reason goes on the card and into the history.' })
    .min(3, 'Say why in a few words.')
    .max(REASON_MAX, `At most ${REASON_MAX} characters.`)
    .superRefine((text, ctx) => {
      // A reason may run over lines; nothing else invisible that changes how it reads.
      const found = findUnsafeCharacter(text, ['\n', '\t']);
      if (found !== undefined)
        ctx.addIssue({
          code: 'custom',
          message: `The reason has ${found.escape} (${found.kind}); type it again without it.`,
        });
    }),
});

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

const FIELD_BLOCK: Record<keyof DeclareValues, string> = {
  service: DECLARE_FIELDS.service.block,
  environment: DECLARE_FIELDS.environment.block,
  strategy: DECLARE_FIELDS.strategy.block,
  toVersion: DECLARE_FIELDS.toVersion.block,
  reason: DECLARE_FIELDS.reason.block,
};

/**
 * Reads the submitted modal. With `plans`, also checks the combination: the service has a plan, the
 * plan covers the environment and has the strategy.
 */
export function parseDeclareSubmission(values: StateValues, plans?: RollbackPlan[]): DeclareParse {
  const read = (f: { block: string; action: string }) => values[f.block]?.[f.action];
  const raw = {
    service: read(DECLARE_FIELDS.service)?.selected_option?.value ?? undefined,
    environment: read(DECLARE_FIELDS.environment)?.selected_option?.value ?? undefined,
    strategy: read(DECLARE_FIELDS.strategy)?.selected_option?.value ?? null,
    toVersion: blank(read(DECLARE_FIELDS.toVersion)?.value),
    reason: blank(read(DECLARE_FIELDS.reason)?.value) ?? undefined,
  };
  const parsed = submissionSchema.safeParse(raw);
  const errors: Record<string, string> = {};
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] as keyof DeclareValues;
      errors[FIELD_BLOCK[key]] ??= truncate(issue.message, 150);
    }
    return { ok: false, errors };
  }
  const v = parsed.data;
  if (plans !== undefined) {
    const plan = plans.find((p) => p.service === v.service);
    if (plan === undefined) errors[FIELD_BLOCK.service] = `No rollback plan for ${v.service}.`;
    else {
      if (!plan.environments.includes(v.environment)) {
        errors[FIELD_BLOCK.environment] = truncate(
          `${v.service} has no plan for ${v.environment}: ${plan.environments.join(', ')}.`,
          150,
        );
      }
      if (v.strategy !== null && !(v.strategy in plan.strategies)) {
        errors[FIELD_BLOCK.strategy] = truncate(
          `${v.service} has no strategy ${v.strategy}: ${Object.keys(plan.strategies).join(', ')}.`,
          150,
        );
      }
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, values: v };
}
