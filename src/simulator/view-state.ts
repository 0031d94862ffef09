/**
 * `view.state.values` of a view_submission, built from the stored view's input blocks: keyed by the
 * real block_id and action_id, each element's value in the shape Slack gives its type.
 */
import { isObject, objects, str, textOf, type JsonObject } from './json.js';
import type { SimView } from './workspace.js';

/** What the user typed or chose in one input; a bare string is read according to the element's type. */
export type ViewInput = { kind: 'text'; value: string } | { kind: 'select'; value: string };

/** The user types `value` into a plain_text_input (or number/email/url input). */
export function textInput(value: string): ViewInput {
  return { kind: 'text', value };
}

/** The user picks the option whose `value` is `value` in a static_select or radio_buttons. */
export function selectOption(value: string): ViewInput {
  return { kind: 'select', value };
}

const TEXT_TYPES = new Set(['plain_text_input', 'number_input', 'email_text_input', 'url_text_input']);
const OPTION_TYPES = new Set(['static_select', 'radio_buttons']);

/**
 * `values` is keyed by action_id or block_id. Inputs left out are sent empty, as Slack sends them;
 * a key that names no input is an error (a typo would otherwise pass silently).
 */
export function buildStateValues(view: SimView, values: Record<string, string | ViewInput>): JsonObject {
  const state: JsonObject = {};
  const used = new Set<string>();
  for (const block of view.blocks) {
    if (block.type !== 'input' || !isObject(block.element)) continue;
    const blockId = str(block.block_id) ?? '';
    const element = block.element;
    const actionId = str(element.action_id) ?? '';
    const key = actionId in values ? actionId : blockId in values ? blockId : undefined;
    if (key !== undefined) used.add(key);
    state[blockId] = {
      [actionId]: elementState(element, key === undefined ? undefined : values[key], actionId),
    };
  }
  const unknown = Object.keys(values).filter((key) => !used.has(key));
  if (unknown.length > 0) {
    const inputs = view.blocks
      .filter((b) => b.type === 'input')
      .map((b) => `${str(b.block_id) ?? ''}/${isObject(b.element) ? (str(b.element.action_id) ?? '') : ''}`);
    throw new Error(
      `View ${view.id} has no input ${unknown.join(', ')}; its inputs (block_id/action_id): ${inputs.join(', ')}`,
    );
  }
  return state;
}

function elementState(
  element: JsonObject,
  input: string | ViewInput | undefined,
  actionId: string,
): JsonObject {
  const type = str(element.type) ?? '';
  const value = typeof input === 'string' ? input : input?.value;
  if (TEXT_TYPES.has(type)) {
    if (typeof input === 'object' && input.kind !== 'text')
      throw new Error(`${actionId} is a ${type}, not a select`);
    return { type, value: value ?? null };
  }
  if (OPTION_TYPES.has(type)) {
    if (typeof input === 'object' && input.kind !== 'select')
      throw new Error(`${actionId} is a ${type}, not a text input`);
    if (value === undefined) return { type, selected_option: null };
    const options = [
      ...objects(element.options),
      ...objects(element.option_groups).flatMap((g) => objects(g.options)),
    ];
    const option = options.find((o) => o.value === value);
    if (option === undefined) {
      const known = options.map((o) => `${str(o.value) ?? ''} (${textOf(o.text)})`).join(', ');
      throw new Error(`${actionId} has no option ${value}; options: ${known}`);
    }
    return { type, selected_option: option };
  }
  if (type === 'datepicker') return { type, selected_date: value ?? null };
  if (type === 'users_select') return { type, selected_user: value ?? null };
  if (type === 'conversations_select') return { type, selected_conversation: value ?? null };
  if (type === 'channels_select') return { type, selected_channel: value ?? null };
  if (value !== undefined) throw new Error(`${actionId}: the simulator cannot fill a ${type} yet`);
  return { type };
}
