/**
 * Block Kit validation as Slack applies it to `blocks` on chat.* and views.* calls: the limits the bot
 * is likely to hit (block count, text lengths, button values, duplicated ids). Problems come back as
 * Slack words them in `response_metadata.messages`: `[ERROR] <what> [json-pointer:/blocks/0/text/text]`.
 */
import { isObject, obj, objects, str, type Json, type JsonObject } from './json.js';

export type BlocksVerdict =
  | { ok: true; blocks: JsonObject[] }
  | { ok: false; error: 'invalid_blocks' | 'invalid_blocks_format'; messages: string[] };

const KNOWN_BLOCKS = new Set([
  'section',
  'header',
  'context',
  'actions',
  'divider',
  'image',
  'input',
  'rich_text',
  'markdown',
  'file',
  'video',
]);

class Problems {
  readonly messages: string[] = [];
  readonly actionIds = new Set<string>();
  readonly blockIds = new Set<string>();
  add(message: string, pointer: string): void {
    this.messages.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  }
  maxLength(value: Json | undefined, max: number, pointer: string): void {
    if (typeof value === 'string' && value.length > max)
      this.add(`must be less than ${max + 1} characters`, pointer);
  }
  maxItems(value: Json | undefined, max: number, pointer: string): void {
    if (Array.isArray(value) && value.length > max) this.add(`no more than ${max} items allowed`, pointer);
  }
}

/** `maxBlocks` is 50 for messages and 100 for modals and App Home. */
export function validateBlocks(blocks: Json | undefined, maxBlocks: number): BlocksVerdict {
  if (!Array.isArray(blocks)) {
    return {
      ok: false,
      error: 'invalid_blocks_format',
      messages: ['[ERROR] must be an array [json-pointer:/blocks]'],
    };
  }
  const problems = new Problems();
  problems.maxItems(blocks, maxBlocks, '/blocks');
  blocks.forEach((block, index) => {
    checkBlock(block, `/blocks/${index}`, problems);
  });
  if (problems.messages.length > 0)
    return { ok: false, error: 'invalid_blocks', messages: problems.messages };
  return { ok: true, blocks: objects(blocks) };
}

function checkBlock(block: Json, at: string, problems: Problems): void {
  if (!isObject(block)) {
    problems.add('must be an object', at);
    return;
  }
  const type = str(block.type);
  if (type === undefined || !KNOWN_BLOCKS.has(type)) {
    problems.add(`unsupported type: ${String(type)}`, `${at}/type`);
    return;
  }
  const blockId = str(block.block_id);
  if (blockId !== undefined) {
    problems.maxLength(blockId, 255, `${at}/block_id`);
    if (problems.blockIds.has(blockId)) problems.add(`duplicate block_id: ${blockId}`, `${at}/block_id`);
    problems.blockIds.add(blockId);
  }
  switch (type) {
    case 'section':
      checkSection(block, at, problems);
      break;
    case 'header':
      if (obj(block.text)?.type !== 'plain_text') problems.add('must be plain_text', `${at}/text/type`);
      problems.maxLength(obj(block.text)?.text, 150, `${at}/text/text`);
      break;
    case 'context':
      problems.maxItems(block.elements, 10, `${at}/elements`);
      objects(block.elements).forEach((element, i) => {
        problems.maxLength(element.text, 3000, `${at}/elements/${i}/text`);
      });
      break;
    case 'actions':
      problems.maxItems(block.elements, 25, `${at}/elements`);
      objects(block.elements).forEach((element, i) => {
        checkElement(element, `${at}/elements/${i}`, problems);
      });
      break;
    case 'input':
      problems.maxLength(obj(block.label)?.text, 2000, `${at}/label/text`);
      if (isObject(block.element)) checkElement(block.element, `${at}/element`, problems);
      else problems.add('must provide an element', `${at}/element`);
      break;
    default:
      break;
  }
}

function checkSection(block: JsonObject, at: string, problems: Problems): void {
  if (block.text === undefined && block.fields === undefined) problems.add('must provide text or fields', at);
  problems.maxLength(obj(block.text)?.text, 3000, `${at}/text/text`);
  problems.maxItems(block.fields, 10, `${at}/fields`);
  objects(block.fields).forEach((field, i) => {
    problems.maxLength(field.text, 2000, `${at}/fields/${i}/text`);
  });
  if (isObject(block.accessory)) checkElement(block.accessory, `${at}/accessory`, problems);
}

function checkElement(element: JsonObject, at: string, problems: Problems): void {
  const actionId = str(element.action_id);
  if (actionId !== undefined) {
    problems.maxLength(actionId, 255, `${at}/action_id`);
    if (problems.actionIds.has(actionId)) problems.add(`duplicate action_id: ${actionId}`, `${at}/action_id`);
    problems.actionIds.add(actionId);
  }
  if (element.type === 'button') {
    problems.maxLength(obj(element.text)?.text, 75, `${at}/text/text`);
    problems.maxLength(element.value, 2000, `${at}/value`);
    problems.maxLength(element.url, 3000, `${at}/url`);
  }
}

/**
 * Slack gives every stored block a `block_id` and every interactive element an `action_id` when the
 * app left them out; clicks and view submissions then carry those generated ids.
 */
export function assignIds(blocks: JsonObject[], nextId: () => string): JsonObject[] {
  return blocks.map((block) => {
    const copy: JsonObject = { ...block, block_id: str(block.block_id) ?? nextId() };
    const withActionId = (element: JsonObject): JsonObject =>
      element.type === undefined || str(element.action_id) !== undefined
        ? element
        : { ...element, action_id: nextId() };
    if (Array.isArray(block.elements) && block.type === 'actions')
      copy.elements = objects(block.elements).map(withActionId);
    if (isObject(block.accessory)) copy.accessory = withActionId(block.accessory);
    if (isObject(block.element)) copy.element = withActionId(block.element);
    return copy;
  });
}
