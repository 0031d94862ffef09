/**
 * A validator for rendered Block Kit: Slack's documented limits plus our own invariants (every
 * mrkdwn `&` starts an entity, every `<` opens a token we emit, no broken surrogate pair), so
 * unescaped user text or a bad cut shows up as a problem. Returns the problems; `[]` is valid.
 */
import { LIMITS } from '../../src/slack/blocks/kit.js';

const TOKEN =
  /<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!date\^\d+\^[^|<>]+\|[^<>]+|https?:\/\/[^<>|]+(\|[^<>]*)?)>/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function checkText(where: string, text: unknown, max: number, problems: string[]): void {
  if (!isObj(text)) return void problems.push(`${where}: missing text object`);
  const s = text.text;
  if (typeof s !== 'string' || s.length === 0) return void problems.push(`${where}: empty text`);
  if (s.length > max) problems.push(`${where}: ${s.length} chars > ${max}`);
  if (LONE_SURROGATE.test(s)) problems.push(`${where}: broken surrogate pair`);
  if (text.type === 'mrkdwn') checkMrkdwn(where, s, problems);
}

export function checkMrkdwn(where: string, s: string, problems: string[]): void {
  // A `>` that starts a line is a block quote.
  const rest = s.replace(TOKEN, '').replace(/(^|\n)>/g, '$1');
  if (/[<>]/.test(rest))
    problems.push(`${where}: raw < or > outside a known token: ${JSON.stringify(s.slice(0, 200))}`);
  if (/&(?!(amp|lt|gt);)/.test(s)) problems.push(`${where}: & that starts no entity`);
}

function checkConfirm(where: string, c: unknown, problems: string[]): void {
  if (c === undefined) return;
  if (!isObj(c)) return void problems.push(`${where}: bad confirm`);
  checkText(`${where}.title`, c.title, LIMITS.confirmTitle, problems);
  checkText(`${where}.text`, c.text, LIMITS.confirmText, problems);
  checkText(`${where}.confirm`, c.confirm, LIMITS.confirmButton, problems);
  checkText(`${where}.deny`, c.deny, LIMITS.confirmButton, problems);
}

function checkElement(where: string, e: unknown, problems: string[]): void {
  if (!isObj(e)) return void problems.push(`${where}: not an object`);
  if (typeof e.action_id === 'string' && e.action_id.length > LIMITS.actionId)
    problems.push(`${where}: action_id too long`);
  checkConfirm(`${where}.confirm`, e.confirm, problems);
  if (e.type === 'button') {
    checkText(`${where}.text`, e.text, LIMITS.buttonText, problems);
    if (typeof e.value === 'string' && e.value.length > LIMITS.buttonValue)
      problems.push(`${where}: value too long`);
  } else if (e.type === 'static_select') {
    const options = arr(e.options);
    if (options.length === 0 || options.length > LIMITS.options)
      problems.push(`${where}: ${options.length} options`);
    options.forEach((o, i) => {
      if (!isObj(o)) return;
      checkText(`${where}.options[${i}]`, o.text, LIMITS.optionText, problems);
      if (typeof o.value !== 'string' || o.value.length > LIMITS.optionValue)
        problems.push(`${where}.options[${i}]: value`);
    });
    if (e.placeholder !== undefined)
      checkText(`${where}.placeholder`, e.placeholder, LIMITS.placeholder, problems);
  } else if (e.type === 'plain_text_input') {
    if (e.placeholder !== undefined)
      checkText(`${where}.placeholder`, e.placeholder, LIMITS.placeholder, problems);
  } else if (e.type === 'mrkdwn' || e.type === 'plain_text') {
    checkText(where, e, LIMITS.contextText, problems);
  }
}

export function checkBlockLimits(blocks: unknown, maxBlocks: number = LIMITS.messageBlocks): string[] {
  const problems: string[] = [];
  const list = arr(blocks);
  if (list.length > maxBlocks) problems.push(`${list.length} blocks > ${maxBlocks}`);
  const ids = new Set<string>();
  list.forEach((b, i) => {
    const where = `blocks[${i}]`;
    if (!isObj(b)) return void problems.push(`${where}: not an object`);
    if (typeof b.block_id === 'string') {
      if (b.block_id.length > LIMITS.blockId) problems.push(`${where}: block_id too long`);
      if (ids.has(b.block_id)) problems.push(`${where}: duplicate block_id ${b.block_id}`);
      ids.add(b.block_id);
    }
    switch (b.type) {
      case 'header':
        checkText(`${where}.text`, b.text, LIMITS.headerText, problems);
        if (isObj(b.text) && b.text.type !== 'plain_text')
          problems.push(`${where}: header must be plain_text`);
        break;
      case 'section': {
        if (b.text === undefined && b.fields === undefined) problems.push(`${where}: section without text`);
        if (b.text !== undefined) checkText(`${where}.text`, b.text, LIMITS.sectionText, problems);
        const f = arr(b.fields);
        if (f.length > LIMITS.fields) problems.push(`${where}: ${f.length} fields`);
        f.forEach((t, j) => {
          checkText(`${where}.fields[${j}]`, t, LIMITS.fieldText, problems);
        });
        if (b.accessory !== undefined) checkElement(`${where}.accessory`, b.accessory, problems);
        break;
      }
      case 'context': {
        const els = arr(b.elements);
        if (els.length === 0 || els.length > LIMITS.contextElements)
          problems.push(`${where}: ${els.length} elements`);
        els.forEach((e, j) => {
          checkElement(`${where}.elements[${j}]`, e, problems);
        });
        break;
      }
      case 'actions': {
        const els = arr(b.elements);
        if (els.length === 0 || els.length > LIMITS.actionsElements)
          problems.push(`${where}: ${els.length} elements`);
        els.forEach((e, j) => {
          checkElement(`${where}.elements[${j}]`, e, problems);
        });
        break;
      }
      case 'input':
        checkText(`${where}.label`, b.label, LIMITS.inputLabel, problems);
        checkElement(`${where}.element`, b.element, problems);
        break;
      case 'divider':
        break;
      default:
        problems.push(`${where}: unexpected block type ${String(b.type)}`);
    }
  });
  return problems;
}

/** A modal: the title, submit and close limits and at most 100 blocks. */
export function checkViewLimits(view: Json): string[] {
  const problems = checkBlockLimits(view.blocks, LIMITS.modalBlocks);
  checkText('title', view.title, LIMITS.modalTitle, problems);
  if (view.submit !== undefined) checkText('submit', view.submit, LIMITS.modalTitle, problems);
  if (view.close !== undefined) checkText('close', view.close, LIMITS.modalTitle, problems);
  return problems;
}
