/**
 * docs/plan-reference.md, written from the schemas (`rollback-bot reference`, `npm run docs`): every
 * field of the three manifest kinds and every executor's parameters, with type, default, whether it
 * is required, its `.describe()` text and an example taken from manifests/examples. Pure: the caller
 * reads the example documents and says which executors have a page of their own.
 */
import { stringify } from 'yaml';
import { WHOLE_SECRET_REFERENCE } from '../domain/param-text.js';
import { CONDITION_PATTERN } from '../domain/step-condition.js';
import { TEMPLATE_VARIABLES } from '../domain/template-vars.js';
import type { ExecutorRegistry } from '../executors/registry.js';
import { DURATION_PATTERN } from '../schema/zod-kit.js';
import { API_VERSION, KINDS, type ManifestKind } from './manifest-schema.js';
import { MAX_FILE_BYTES } from './manifests.js';
import {
  anchorOf,
  ENVELOPE_ANCHOR,
  FILES_ANCHOR,
  hasExecutorParams,
  isRecordSchema,
  referenceSubjects,
  SUBJECT_ANCHOR,
  tagOf,
  visitDocument,
  type ExecutorSubject,
  type JsonSchema,
} from './reference.js';
import { MAX_ALIAS_COUNT } from './yaml-source.js';

export interface ReferenceInput {
  registry: ExecutorRegistry;
  /** The documents of manifests/examples, in file order: the first value of each field is its example. */
  examples: readonly { file: string; data: unknown }[];
  /** Executor kinds with a page of their own in docs/executors/. */
  executorPages: readonly string[];
}

/** One entry of the reference: a field, or the heading of one branch of a tagged union. */
export interface ReferenceEntry {
  anchor: string;
  /** As the reference shows it: `spec.strategies.<name>.steps[].onFailure`. */
  title: string;
  schema: JsonSchema;
  required: boolean;
  /** The property's own name (`onFailure`), for examples. */
  name: string;
  /** The branch of a tagged union it belongs to, e.g. `provider: unleash`. */
  branch?: string;
  /** A branch heading rather than a field. */
  heading?: true;
}

/**
 * The fields inside `schema` (a mapping, a list or mapping of them, or a union), depth first: each
 * field, then the fields inside it. A step's `with` has no children here: its executor documents them.
 */
export function referenceEntries(
  schema: JsonSchema,
  parts: readonly string[],
  title: string,
  branch?: string,
): ReferenceEntry[] {
  if (schema.items) return referenceEntries(schema.items, parts, `${title}[]`, branch);
  if (isRecordSchema(schema)) {
    const key = schema.propertyNames?.enum ? '<key>' : '<name>';
    return referenceEntries(schema.additionalProperties, parts, join(title, key), branch);
  }
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const tag = tagOf(branches);
    return branches.flatMap((option) => {
      if (tag === undefined) return referenceEntries(option, parts, title, branch);
      const value = String(option.properties![tag]!.const);
      const label = `${tag}: ${value}`;
      const at = [...parts, value];
      return [
        {
          anchor: anchorOf(at),
          title: label,
          schema: option,
          required: false,
          name: tag,
          heading: true as const,
        },
        ...referenceEntries(option, at, title, label),
      ];
    });
  }
  return Object.entries(schema.properties ?? {}).flatMap(([key, property]) => {
    const entry: ReferenceEntry = {
      anchor: anchorOf([...parts, key]),
      title: join(title, key),
      schema: property,
      required: schema.required?.includes(key) ?? false,
      name: key,
      ...(branch === undefined ? {} : { branch }),
    };
    const children =
      key === 'with' && hasExecutorParams(schema)
        ? []
        : referenceEntries(property, [...parts, key], entry.title, branch);
    return [entry, ...children];
  });
}

const join = (title: string, key: string): string => (title === '' ? key : `${title}.${key}`);

interface Examples {
  fields: Map<string, unknown>;
  steps: Map<string, Record<string, unknown>>;
  files: Map<ManifestKind, string[]>;
}

function collectExamples(input: ReferenceInput): Examples {
  const examples: Examples = { fields: new Map(), steps: new Map(), files: new Map() };
  for (const { file, data } of input.examples) {
    const kind = (data as { kind?: unknown } | null)?.kind;
    const kindFiles = (KINDS as readonly unknown[]).includes(kind)
      ? examples.files.get(kind as ManifestKind)
      : undefined;
    if ((KINDS as readonly unknown[]).includes(kind)) {
      const list = kindFiles ?? [];
      if (!list.includes(file)) list.push(file);
      examples.files.set(kind as ManifestKind, list);
    }
    visitDocument(data, input.registry, (field) => {
      if (!examples.fields.has(field.anchor)) examples.fields.set(field.anchor, field.value);
      if (field.step && !examples.steps.has(field.step.executor)) {
        examples.steps.set(field.step.executor, field.step.value);
      }
    });
  }
  return examples;
}

export function referenceMarkdown(input: ReferenceInput): string {
  const subjects = referenceSubjects(input.registry);
  const examples = collectExamples(input);
  const out: string[] = [];
  const executors = [...subjects.executors.values()];
  out.push(
    '# Plan reference',
    '',
    '<!-- Generated by `npm run docs` (rollback-bot reference) from the zod schemas: src/config/manifest-schema.ts,',
    "     src/config/communications-schema.ts and each executor's params.ts. Do not edit by hand: change the",
    '     `.describe()` text there and run `npm run docs`; a test fails while this page is stale. -->',
    '',
    "Every field of the three manifest kinds and of every executor's parameters: its type, whether it is",
    'required, its default, what it does and an example from [`manifests/examples/`](../manifests/examples/).',
    '`npx rollback-bot validate` links each problem it prints to the field here; `npx rollback-bot init`',
    'writes a first plan and policy to start from; editors that read JSON Schema complete and check',
    'fields with [`manifests/rollback-bot.schema.json`](../manifests/rollback-bot.schema.json).',
    '',
    '- [Manifest files](#manifest-files)',
    '- [Every manifest](#manifest): `apiVersion`, `kind`, `metadata`',
    ...KINDS.map((kind) => `- [${kind}](#${SUBJECT_ANCHOR[kind]})`),
    `- [Executors](#executors): ${executors.map((e) => `[\`${e.kind}\`](#${e.kind})`).join(', ')}`,
    '',
    ...filesSection(),
    `## <a id="${ENVELOPE_ANCHOR}"></a>Every manifest`,
    '',
    'Each YAML document starts with these, whatever its kind; the rest is under `spec`.',
    '',
  );
  for (const entry of referenceEntries(subjects.envelope, [ENVELOPE_ANCHOR], '')) {
    out.push(...renderEntry(entry, '###', examples));
  }
  for (const kind of KINDS) {
    const spec = subjects.specs[kind];
    const files = examples.files.get(kind) ?? [];
    out.push(`## <a id="${SUBJECT_ANCHOR[kind]}"></a>${kind}`, '', escapeText(spec.description ?? ''), '');
    out.push(
      `\`kind: ${kind}\`. Examples: ${files.map((f) => `[\`${f}\`](../${f})`).join(', ') || 'none yet'}.`,
      '',
    );
    for (const entry of referenceEntries(spec, [SUBJECT_ANCHOR[kind]], 'spec')) {
      out.push(...renderEntry(entry, '###', examples));
    }
  }
  out.push(...executorsSection(executors, input, examples));
  return `${out.join('\n').trimEnd()}\n`;
}

function filesSection(): string[] {
  return [
    `## <a id="${FILES_ANCHOR}"></a>Manifest files`,
    '',
    '- `ROLLBACK_CONFIG` (and `validate`) names a file, or a folder searched recursively for `*.yaml` and',
    '  `*.yml`. A file may hold several documents separated by `---`, of any kinds.',
    `- Each document is a mapping with \`apiVersion: ${API_VERSION}\`, a \`kind\` (${KINDS.join(', ')}),`,
    '  `metadata` and `spec`. Unknown keys are refused, with the known key they most look like.',
    '- In a folder, a file none of whose documents is a rollback-bot manifest (Kubernetes, Prometheus',
    '  files) is skipped with a warning; an empty file is a warning.',
    `- Files over ${MAX_FILE_BYTES / 1024 / 1024} MB are refused unread; YAML syntax errors are reported at their line; duplicate`,
    `  keys are refused; aliases (\`*name\`) may expand to at most ${MAX_ALIAS_COUNT} nodes.`,
    '- Durations are a number and a unit, `ms`, `s`, `m`, `h` or `d`, and may be chained: `30s`, `15m`, `1h30m`.',
    "- A step's `with` values may use `{{ variable }}`: " +
      TEMPLATE_VARIABLES.map((v) => `\`${v}\``).join(', ') +
      ', and `steps.<id>.output.<key>` of an earlier step. They are checked by `validate`.',
    '- Secrets are never written in a file: `${env:NAME}` (an environment variable of the bot) or',
    '  `${file:/path}` (a mounted file), read when the step runs; `validate --env-check` checks the variables are set.',
    '- One plan per service; names (`metadata.name`) are unique per kind.',
    '',
  ];
}

function executorsSection(
  executors: readonly ExecutorSubject[],
  input: ReferenceInput,
  examples: Examples,
): string[] {
  const out = [
    '## <a id="executors"></a>Executors',
    '',
    "A step (or check, or watch) names its executor in `uses`; `with` holds that executor's parameters.",
    '',
    '| `uses` | What it does |',
    '| --- | --- |',
    ...executors.map(
      (e) => `| [\`${e.kind}\`](#${e.kind}) | ${escapeText(e.description).replaceAll('|', '\\|')} |`,
    ),
    '',
  ];
  for (const executor of executors) {
    out.push(
      `### <a id="${executor.kind}"></a>\`${executor.kind}\``,
      '',
      escapeText(executor.description),
      '',
    );
    if (executor.notAStep !== undefined)
      out.push(`Not a step (checks only): ${escapeText(executor.notAStep)}`, '');
    if (executor.iamActions !== undefined) {
      out.push(`IAM actions it needs: ${executor.iamActions.map((a) => `\`${a}\``).join(', ')}.`, '');
    }
    if (input.executorPages.includes(executor.kind)) {
      out.push(`More: [\`docs/executors/${executor.kind}.md\`](executors/${executor.kind}.md).`, '');
    }
    const step = examples.steps.get(executor.kind);
    out.push(
      ...(step
        ? ['Example:', '', ...yamlBlock([step], ''), '']
        : ['No example in `manifests/examples/` yet.', '']),
    );
    for (const entry of referenceEntries(executor.schema, [executor.kind], 'with')) {
      out.push(...renderEntry(entry, '####', examples));
    }
  }
  return out;
}

const EXECUTOR_PARAMS = 'mapping: the parameters of the executor `uses` names (see [Executors](#executors))';

function renderEntry(entry: ReferenceEntry, level: string, examples: Examples): string[] {
  if (entry.heading) return [`${level} <a id="${entry.anchor}"></a>With \`${entry.title}\``, ''];
  const { schema } = entry;
  const branch = entry.branch === undefined ? '' : ` (${entry.branch})`;
  const out = [`${level} <a id="${entry.anchor}"></a>\`${entry.title}\`${branch}`, ''];
  if (schema.description !== undefined) out.push(escapeText(schema.description), '');
  const type = entry.name === 'with' && isRecordSchema(schema) ? EXECUTOR_PARAMS : typeText(schema);
  out.push(`- Type: ${type}`, `- Required: ${entry.required ? 'yes' : 'no'}`);
  if (schema.default !== undefined) out.push(`- Default: ${code(inline(schema.default))}`);
  const example = examples.fields.has(entry.anchor)
    ? examples.fields.get(entry.anchor)
    : declaredExample(schema);
  if (example !== undefined) out.push(...exampleLines(entry.name, example));
  out.push('');
  return out;
}

/** For a field no example manifest uses: the schema's own example, else its default, const or first value. */
function declaredExample(schema: JsonSchema): unknown {
  return schema.examples?.[0] ?? schema.default ?? schema.const ?? schema.enum?.[0];
}

const MAX_EXAMPLE_LINES = 14;

function exampleLines(name: string, value: unknown): string[] {
  const flat = inline(value);
  if (!flat.includes('\n') && flat.length <= 90) return [`- Example: ${code(`${name}: ${flat}`)}`];
  return ['- Example:', '', ...yamlBlock({ [name]: value }, '  ')];
}

function yamlBlock(value: unknown, indent: string): string[] {
  const lines = stringify(value, { lineWidth: 0 }).trimEnd().split('\n');
  const shown = lines.length > MAX_EXAMPLE_LINES ? [...lines.slice(0, MAX_EXAMPLE_LINES), '# ...'] : lines;
  return [`${indent}\`\`\`yaml`, ...shown.map((line) => `${indent}${line}`), `${indent}\`\`\``];
}

function inline(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

const code = (text: string): string => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

/**
 * Descriptions are plain text with some `code`: outside code, `{{ templates }}` and `${env:NAME}`
 * become code too, and `<` or `*` must not become HTML or emphasis.
 */
export function escapeText(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .split(/(\{\{.*?\}\}|\$\{[^}\s]*\})/)
            .map((piece, j) =>
              j % 2 === 1 ? code(piece) : piece.replaceAll('<', '&lt;').replaceAll('*', '\\*'),
            )
            .join(''),
    )
    .join('');
}

const BIG = 2 ** 53 - 1;

export function typeText(schema: JsonSchema): string {
  if (schema.const !== undefined) return code(inline(schema.const));
  if (schema.enum) return `one of ${schema.enum.map((v) => code(String(v))).join(', ')}`;
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    if (tagOf(branches) !== undefined) return 'mapping (one of the forms below)';
    return [...new Set(branches.map(typeText))].join(', or ');
  }
  switch (schema.type) {
    case 'string':
      return stringType(schema);
    case 'integer':
    case 'number':
      return `${schema.type === 'integer' ? 'whole number' : 'number'}${range(schema.minimum, schema.maximum)}`;
    case 'boolean':
      return '`true` or `false`';
    case 'array': {
      const count = range(schema.minItems, schema.maxItems, 'items');
      return `list of ${schema.items ? plural(schema.items) : 'values'}${count}`;
    }
    case 'object':
      if (isRecordSchema(schema)) {
        const keys = schema.propertyNames?.enum ? ' (keys as the description lists them)' : '';
        const values = typeText(schema.additionalProperties);
        return values === 'any value' ? `mapping${keys}` : `mapping${keys}, each value ${values}`;
      }
      return schema.properties ? 'mapping (fields below)' : 'mapping';
    default:
      return 'any value';
  }
}

function stringType(schema: JsonSchema): string {
  if (schema.pattern === DURATION_PATTERN) return 'duration (`30s`, `15m`, `1h30m`)';
  if (schema.pattern === WHOLE_SECRET_REFERENCE.source)
    return 'secret reference, `${env:NAME}` or `${file:/path}`';
  if (schema.pattern === CONDITION_PATTERN)
    return 'condition, `{{ steps.<id>.output.<key> }}` or `{{ !... }}`';
  if (schema.pattern !== undefined) return `text matching ${code(schema.pattern)}`;
  return schema.minLength !== undefined && schema.minLength > 0 ? 'text, not empty' : 'text';
}

function plural(items: JsonSchema): string {
  const text = typeText(items);
  if (text === 'mapping (fields below)') return 'mappings (fields below)';
  return text;
}

function range(min: number | undefined, max: number | undefined, unit = ''): string {
  const low = min !== undefined && Math.abs(min) < BIG ? min : undefined;
  const high = max !== undefined && Math.abs(max) < BIG ? max : undefined;
  const of = (n: number): string => (unit === '' ? '' : ` ${n === 1 ? unit.slice(0, -1) : unit}`);
  if (low !== undefined && high !== undefined) return `, ${low} to ${high}${of(high)}`;
  if (low !== undefined) return low === 0 && unit === '' ? ', 0 or more' : `, at least ${low}${of(low)}`;
  if (high !== undefined) return `, at most ${high}${of(high)}`;
  return '';
}
