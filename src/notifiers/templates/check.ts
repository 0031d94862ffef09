/**
 * Checks a communication template before any incident needs it: Handlebars syntax, every variable
 * against `COMMUNICATION_VARIABLE_SHAPE` (with a did-you-mean), and only the few helpers the
 * renderer offers. `validate` reports the findings; `renderTemplate` refuses a template with any.
 *
 * Walks the Handlebars AST with a stack of scopes, as the runtime resolves paths: `{{#each
 * approvers}}` enters the list's items, `{{#with rollback}}` a group, `../` and `@root` climb back.
 */
import Handlebars from 'handlebars';
import {
  COMMUNICATION_VARIABLE_SHAPE,
  COMMUNICATION_VARIABLES,
  isList,
  variablePaths,
  type VariableShape,
} from '../../domain/communication-vars.js';
import { didYouMean } from '../../schema/did-you-mean.js';

export interface TemplateFinding {
  message: string;
  /** Line and column inside the template text (1-based), when known. */
  line?: number;
  column?: number;
}

/** Longer templates are refused: a message is a few lines, and rendering must stay cheap. */
export const MAX_TEMPLATE_CHARS = 4_000;

/** Inline helpers the renderer registers: `{{mention declaredBy}}`. */
export const TEMPLATE_HELPERS = ['mention'] as const;
const BLOCK_HELPERS = ['if', 'unless', 'each', 'with'] as const;
const LOOP_DATA = ['index', 'first', 'last'];

type Ast = hbs.AST.Node;
interface Scope {
  shape: VariableShape;
  /** How this scope is reached from the root, for messages: `approvers[]`. */
  label: string;
  loop: boolean;
}

export function checkTemplate(text: string): TemplateFinding[] {
  if (text.length > MAX_TEMPLATE_CHARS) {
    return [{ message: `is ${text.length} characters long; templates are limited to ${MAX_TEMPLATE_CHARS}` }];
  }
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(text);
  } catch (error) {
    return [syntaxFinding(error)];
  }
  const findings: TemplateFinding[] = [];
  walkProgram(program, [{ shape: COMMUNICATION_VARIABLE_SHAPE, label: '', loop: false }], findings);
  return findings;
}

function walkProgram(program: hbs.AST.Program | undefined, scopes: Scope[], findings: TemplateFinding[]) {
  for (const statement of program?.body ?? []) walkStatement(statement, scopes, findings);
}

function walkStatement(node: Ast, scopes: Scope[], findings: TemplateFinding[]): void {
  const add = (message: string) => findings.push(finding(node, message));
  switch (node.type) {
    case 'ContentStatement':
    case 'CommentStatement':
      return;
    case 'MustacheStatement':
      walkMustache(node as hbs.AST.MustacheStatement, scopes, findings);
      return;
    case 'BlockStatement':
      walkBlock(node as hbs.AST.BlockStatement, scopes, findings);
      return;
    case 'PartialStatement':
    case 'PartialBlockStatement':
      add('partials ({{> name}}) are not available in message templates');
      return;
    default:
      add(`"${node.type}" is not available in message templates`);
  }
}

function walkMustache(node: hbs.AST.MustacheStatement, scopes: Scope[], findings: TemplateFinding[]) {
  if (node.path.type !== 'PathExpression') {
    findings.push(finding(node, 'a literal inside {{ }}: write plain text outside the braces'));
    return;
  }
  const path = node.path as hbs.AST.PathExpression;
  if (node.params.length > 0 || hasHash(node)) {
    walkHelperCall(node, path, node.params, scopes, findings);
    return;
  }
  if (isHelperName(path)) {
    findings.push(
      finding(node, `{{${path.original}}} needs a variable, e.g. {{${path.original} declaredBy}}`),
    );
    return;
  }
  checkValue(path, scopes, findings);
}

function walkHelperCall(
  node: hbs.AST.MustacheStatement | hbs.AST.SubExpression,
  path: hbs.AST.PathExpression,
  params: hbs.AST.Expression[],
  scopes: Scope[],
  findings: TemplateFinding[],
): void {
  const name = path.original;
  if (!isHelperName(path)) {
    const helpers = [...TEMPLATE_HELPERS, ...BLOCK_HELPERS.map((h) => `#${h}`)];
    findings.push(
      finding(
        node,
        `unknown helper "${name}"${didYouMean(name, TEMPLATE_HELPERS)}; helpers: ${helpers.join(', ')}`,
      ),
    );
    return;
  }
  if (params.length !== 1 || hasHash(node)) {
    findings.push(finding(node, `{{${name}}} takes exactly one variable, e.g. {{${name} declaredBy}}`));
  }
  for (const param of params) walkParam(param, scopes, findings);
}

function walkParam(param: hbs.AST.Expression, scopes: Scope[], findings: TemplateFinding[]): void {
  if (param.type === 'PathExpression') checkValue(param as hbs.AST.PathExpression, scopes, findings);
  else if (param.type === 'SubExpression') {
    const sub = param as hbs.AST.SubExpression;
    walkHelperCall(sub, sub.path, sub.params, scopes, findings);
  }
}

function walkBlock(node: hbs.AST.BlockStatement, scopes: Scope[], findings: TemplateFinding[]) {
  const add = (message: string) => findings.push(finding(node, message));
  const name = node.path.original;
  if (!(BLOCK_HELPERS as readonly string[]).includes(name)) {
    add(
      `unknown block "{{#${name}}}"${didYouMean(name, BLOCK_HELPERS)}; blocks: ${BLOCK_HELPERS.map((b) => `#${b}`).join(', ')}`,
    );
    return;
  }
  // The typings say always present; the parser leaves it out when there are none.
  const blockParams = node.program.blockParams as readonly string[] | undefined;
  if (blockParams !== undefined && blockParams.length > 0) {
    add(
      `block parameters (as |name|) are not available; inside {{#${name}}}, write the item's fields directly`,
    );
  }
  const [param] = node.params;
  if (node.params.length !== 1 || hasHash(node) || param === undefined) {
    add(
      `{{#${name}}} takes exactly one variable, e.g. {{#${name} ${name === 'each' ? 'approvers' : 'step.error'}}}`,
    );
    return;
  }
  let inner = scopes;
  if (param.type === 'SubExpression') walkParam(param, scopes, findings);
  else if (param.type !== 'PathExpression') add(`{{#${name}}} takes a variable, not a literal`);
  else {
    const path = param as hbs.AST.PathExpression;
    const resolved = resolve(path, scopes, findings);
    if (resolved !== null && name === 'each') {
      if (!isList(resolved.shape))
        add(`{{#each ${path.original}}}: ${path.original} is not a list; lists: ${lists()}`);
      else if (scopes.some((s) => s.loop))
        add('{{#each}} inside {{#each}} is not available: one loop per template');
      else inner = [...scopes, { shape: resolved.shape[0], label: `${resolved.label}[]`, loop: true }];
    }
    if (resolved !== null && name === 'with') {
      if (resolved.shape === 'value' || isList(resolved.shape)) {
        add(`{{#with ${path.original}}}: ${path.original} is not a group of variables`);
      } else inner = [...scopes, { shape: resolved.shape, label: resolved.label, loop: false }];
    }
  }
  walkProgram(node.program, inner, findings);
  walkProgram(node.inverse, scopes, findings);
}

/** A path printed as text: it must name a value, not a group or a list. */
function checkValue(path: hbs.AST.PathExpression, scopes: Scope[], findings: TemplateFinding[]): void {
  const resolved = resolve(path, scopes, findings);
  if (resolved === null || resolved.shape === 'value') return;
  const name = path.original;
  if (isList(resolved.shape)) {
    const fields = variablePaths(resolved.shape[0]).join('}} {{');
    findings.push(finding(path, `${name} is a list: write {{#each ${name}}}{{${fields}}}{{/each}}`));
  } else {
    const members = variablePaths(resolved.shape, resolved.label).join(', ');
    findings.push(finding(path, `${name} is a group of variables, not a value: use one of ${members}`));
  }
}

/** The shape a path names, or null (with a finding) when it names nothing. */
function resolve(
  path: hbs.AST.PathExpression,
  scopes: Scope[],
  findings: TemplateFinding[],
): Omit<Scope, 'loop'> | null {
  const fail = (message: string): null => {
    findings.push(finding(path, message));
    return null;
  };
  let parts = path.parts;
  let scope: Scope | undefined;
  if (path.data) {
    const [head, ...rest] = parts;
    if (head === 'root') {
      scope = scopes[0]!;
      parts = rest;
    } else if (head !== undefined && LOOP_DATA.includes(head) && rest.length === 0) {
      return scopes.some((s) => s.loop)
        ? { shape: 'value', label: `@${head}` }
        : fail(`@${head} only exists inside {{#each}}`);
    } else {
      return fail(
        `unknown data variable "@${parts.join('.')}"; known: @root, ${LOOP_DATA.map((d) => `@${d}`).join(', ')}`,
      );
    }
  } else {
    scope = scopes[scopes.length - 1 - path.depth];
    if (scope === undefined) return fail(`"${path.original}" climbs above the template's variables`);
  }
  let shape = scope.shape;
  let label = scope.label;
  for (const [i, part] of parts.entries()) {
    if (shape === 'value' || isList(shape)) {
      return fail(unknownMessage(path.original, scope, `${label} has no fields`));
    }
    const child = Object.hasOwn(shape, part) ? shape[part] : undefined;
    if (child === undefined) return fail(unknownMessage(parts.slice(0, i + 1).join('.'), scope));
    shape = child;
    label = label === '' ? part : `${label}.${part}`;
  }
  return { shape, label };
}

function unknownMessage(name: string, scope: Scope, why?: string): string {
  if (scope.label === '') {
    const suggestion = didYouMean(name, COMMUNICATION_VARIABLES);
    return `unknown template variable "${name}"${suggestion}; known: ${COMMUNICATION_VARIABLES.join(', ')}`;
  }
  const fields = variablePaths(scope.shape);
  const inside = `inside {{#each}} over ${scope.label.replace(/\[\]$/, '')}, the fields are ${fields.join(', ')}`;
  const outside = COMMUNICATION_VARIABLES.includes(name)
    ? `; write ../${name} for the variable outside the loop`
    : '';
  return `unknown template variable "${name}"${didYouMean(name, fields)}${why === undefined ? '' : ` (${why})`}: ${inside}${outside}`;
}

function lists(): string {
  return Object.entries(COMMUNICATION_VARIABLE_SHAPE)
    .filter(([, shape]) => isList(shape))
    .map(([name]) => name)
    .join(', ');
}

function isHelperName(path: hbs.AST.PathExpression): boolean {
  return !path.data && path.depth === 0 && (TEMPLATE_HELPERS as readonly string[]).includes(path.original);
}

function hasHash(node: { hash?: hbs.AST.Hash | undefined }): boolean {
  return (node.hash?.pairs.length ?? 0) > 0;
}

function finding(node: Ast, message: string): TemplateFinding {
  // Handlebars counts columns from 0.
  return { message, line: node.loc.start.line, column: node.loc.start.column + 1 };
}

/**
 * Handlebars' parser messages quote the whole grammar ("Expecting 'COMMENT', 'CONTENT', ..."):
 * keep the line and say what is wrong in words.
 */
function syntaxFinding(error: unknown): TemplateFinding {
  const text = error instanceof Error ? error.message : String(error);
  const line = /on line (\d+)/.exec(text)?.[1] ?? /- (\d+):\d+$/.exec(text)?.[1];
  const got = /got '([A-Z_]+)'/.exec(text)?.[1];
  const what =
    got === 'EOF'
      ? 'it ends inside a {{ }} or a {{#block}}: close it ({{/if}}, {{/each}}, ...)'
      : got !== undefined
        ? `unexpected ${got === 'INVALID' ? 'text' : got.toLowerCase().replace(/_/g, ' ')} inside {{ }}: write {{ variable }} or {{#if variable}}...{{/if}}`
        : (text.split('\n')[0] ?? text).replace(/ - \d+:\d+$/, '');
  return {
    message: `is not a valid template: ${what}`,
    ...(line === undefined ? {} : { line: Number(line) }),
  };
}
