/**
 * Small Block Kit builders that enforce Slack's limits as they build, so no renderer can emit a
 * block Slack would reject (`invalid_blocks`). Texts given here are already mrkdwn (escaped by the
 * caller where they hold user input); the builders only truncate.
 */
import { z } from 'zod';
import type {
  ActionsBlock,
  Button,
  ConfirmationDialog,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  SectionBlock,
} from '@slack/web-api';
import { truncate } from './text.js';

/** Slack's limits (docs.slack.dev, Block Kit reference). */
export const LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  sectionText: 3_000,
  fields: 10,
  fieldText: 2_000,
  headerText: 150,
  contextElements: 10,
  contextText: 3_000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2_000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  options: 100,
  optionText: 75,
  optionValue: 150,
  placeholder: 150,
  inputLabel: 2_000,
  modalTitle: 24,
  /** Fallback `text` of a message: Slack truncates past 40,000; keep notifications short. */
  fallbackText: 3_000,
} as const;

export const ACTION_IDS = {
  approve: 'rollback:approve',
  reject: 'rollback:reject',
  cancel: 'rollback:cancel',
  startNow: 'rollback:start-now',
  retryStep: 'rollback:retry-step',
  skipStep: 'rollback:skip-step',
  abort: 'rollback:abort',
  checkDone: 'rollback:check-done',
  accept: 'rollback:accept',
  // Go on after a watched metric breached.
  continue: 'rollback:continue',
} as const;
export type RollbackActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

/** What a button names: the rollback, and the step or check it acts on. */
export interface ButtonValue {
  rollbackId: string;
  step?: number;
  check?: number;
  /** Approve: the digest of the targets the card showed. */
  digest?: string;
}

const buttonValueSchema = z.strictObject({
  r: z.string().min(1).max(200),
  s: z.number().int().nonnegative().optional(),
  c: z.number().int().nonnegative().optional(),
  d: z.string().min(1).max(64).optional(),
});

/** Compact JSON: `{"r":"rb_1"}`, `{"r":"rb_1","s":2}`, `{"r":"rb_1","c":0}`. */
export function encodeButtonValue(value: ButtonValue): string {
  return JSON.stringify({
    r: value.rollbackId,
    ...(value.step === undefined ? {} : { s: value.step }),
    ...(value.check === undefined ? {} : { c: value.check }),
    ...(value.digest === undefined ? {} : { d: value.digest }),
  });
}

/** The inverse of `encodeButtonValue`; null for anything else (a forged or stale payload). */
export function decodeButtonValue(raw: unknown): ButtonValue | null {
  const parsed = parseButtonJson(raw, buttonValueSchema);
  if (parsed === null) return null;
  const { r, s, c, d } = parsed;
  return {
    rollbackId: r,
    ...(s === undefined ? {} : { step: s }),
    ...(c === undefined ? {} : { check: c }),
    ...(d === undefined ? {} : { digest: d }),
  };
}

export const plain = (text: string, max: number) => ({
  type: 'plain_text' as const,
  text: truncate(text, max) || ' ',
  emoji: true,
});

export const md = (text: string, max: number) => ({
  type: 'mrkdwn' as const,
  text: truncate(text, max) || ' ',
});

export const header = (text: string): HeaderBlock => ({
  type: 'header',
  text: plain(text, LIMITS.headerText),
});

export const divider = (): DividerBlock => ({ type: 'divider' });

export function section(text: string, accessory?: Button): SectionBlock {
  return {
    type: 'section',
    text: md(text, LIMITS.sectionText),
    ...(accessory ? { accessory } : {}),
  };
}

export function fields(items: string[]): SectionBlock {
  return { type: 'section', fields: items.slice(0, LIMITS.fields).map((f) => md(f, LIMITS.fieldText)) };
}

export function context(items: string[]): ContextBlock {
  return {
    type: 'context',
    elements: items.slice(0, LIMITS.contextElements).map((t) => md(t, LIMITS.contextText)),
  };
}

export function actions(elements: Button[], blockId?: string): ActionsBlock {
  return {
    type: 'actions',
    ...(blockId ? { block_id: blockId.slice(0, LIMITS.blockId) } : {}),
    elements: elements.slice(0, LIMITS.actionsElements),
  };
}

export function confirm(title: string, text: string, yes: string, no = 'Back'): ConfirmationDialog {
  return {
    title: plain(title, LIMITS.confirmTitle),
    text: plain(text, LIMITS.confirmText),
    confirm: plain(yes, LIMITS.confirmButton),
    deny: plain(no, LIMITS.confirmButton),
    style: 'danger',
  };
}

export function button(
  text: string,
  actionId: RollbackActionId,
  value: ButtonValue,
  options: { style?: 'primary' | 'danger'; confirm?: ConfirmationDialog } = {},
): Button {
  return {
    type: 'button',
    text: plain(text, LIMITS.buttonText),
    action_id: actionId,
    value: encodeButtonValue(value),
    ...(options.style ? { style: options.style } : {}),
    ...(options.confirm ? { confirm: options.confirm } : {}),
  };
}

/** The incident thread's offer: declares the plan's rollback for the incident. */
export const INCIDENT_ACTION_IDS = { proposeRollback: 'incident:propose-rollback' } as const;

export interface IncidentButtonValue {
  incidentId: string;
  /** The strategy the trigger names; the plan's default when absent. */
  strategy?: string;
}

const incidentValueSchema = z.strictObject({
  i: z.string().min(1).max(200),
  st: z.string().min(1).max(200).optional(),
});

export function encodeIncidentValue(value: IncidentButtonValue): string {
  return JSON.stringify({
    i: value.incidentId,
    ...(value.strategy === undefined ? {} : { st: value.strategy }),
  });
}

export function decodeIncidentValue(raw: unknown): IncidentButtonValue | null {
  const parsed = parseButtonJson(raw, incidentValueSchema);
  if (parsed === null) return null;
  return { incidentId: parsed.i, ...(parsed.st === undefined ? {} : { strategy: parsed.st }) };
}

/** A button value as Slack echoes it back: JSON within the limit, of the given shape, else null. */
function parseButtonJson<T>(raw: unknown, schema: z.ZodType<T>): T | null {
  if (typeof raw !== 'string' || raw.length > LIMITS.buttonValue) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export function incidentButton(text: string, value: IncidentButtonValue): Button {
  return {
    type: 'button',
    text: plain(text, LIMITS.buttonText),
    action_id: INCIDENT_ACTION_IDS.proposeRollback,
    value: encodeIncidentValue(value),
    style: 'danger',
  };
}
