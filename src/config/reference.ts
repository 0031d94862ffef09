/**
 * The manifests' fields as the plan reference (docs/plan-reference.md) names them. Everything here
 * reads the JSON Schema that zod writes from the manifest and executor schemas, so the reference,
 * the links `validate` prints and the comments `init` writes come from the same `.describe()` texts.
 *
 * A field's anchor is its path without `spec`, list indexes and mapping keys, lowercased and joined
 * with `-`, behind the subject it belongs to: `plan-strategies-steps-onfailure`, `policy-tiers-after`,
 * `communications-targets-sns-topicarn`, `manifest-metadata-name`. A step's `with` belongs to its
 * executor: `http-timeout`, and a branch of a tagged union adds its tag: `feature-flag-unleash-url`.
 */
import { z } from 'zod';
import type { ExecutorRegistry } from '../executors/registry.js';
import type { IssuePath } from '../schema/issues.js';
import { KINDS, manifestEnvelope, manifestSchemas, type ManifestKind } from './manifest-schema.js';

/** The part of JSON Schema that z.toJSONSchema writes for the manifests and that the reference reads. */
export interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/** Where the reference lives, as `validate` prints it (relative to the project, as the README links it). */
export const REFERENCE_PAGE = 'docs/plan-reference.md';
/** The reference's section on files, documents and YAML: for problems with a whole file. */
export const FILES_ANCHOR = 'manifest-files';

export const SUBJECT_ANCHOR: Record<ManifestKind, string> = {
  RollbackPlan: 'plan',
  AuthorityPolicy: 'policy',
  Communications: 'communications',
};
export const ENVELOPE_ANCHOR = 'manifest';

export interface ExecutorSubject {
  kind: string;
  description: string;
  schema: JsonSchema;
  notAStep?: string;
  iamActions?: readonly string[];
}

export interface ReferenceSubjects {
  envelope: JsonSchema;
  specs: Record<ManifestKind, JsonSchema>;
  executors: Map<string, ExecutorSubject>;
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return json as JsonSchema;
}

const cache = new WeakMap<ExecutorRegistry, ReferenceSubjects>();

/** The schemas the reference documents, written once per registry (validate asks for each problem). */
export function referenceSubjects(registry: ExecutorRegistry): ReferenceSubjects {
  const cached = cache.get(registry);
  if (cached) return cached;
  const spec = (kind: ManifestKind): JsonSchema => jsonSchemaOf(manifestSchemas[kind]).properties!['spec']!;
  const subjects: ReferenceSubjects = {
    envelope: jsonSchemaOf(manifestEnvelope),
    specs: {
      RollbackPlan: spec('RollbackPlan'),
      AuthorityPolicy: spec('AuthorityPolicy'),
      Communications: spec('Communications'),
    },
    executors: new Map(
      registry.kinds().map((kind) => {
        const executor = registry.get(kind)!;
        const subject: ExecutorSubject = {
          kind,
          description: executor.description,
          schema: jsonSchemaOf(executor.params),
          ...(executor.notAStep === undefined ? {} : { notAStep: executor.notAStep }),
          ...(executor.iamActions === undefined ? {} : { iamActions: executor.iamActions }),
        };
        return [kind, subject];
      }),
    ),
  };
  cache.set(registry, subjects);
  return subjects;
}

export const anchorOf = (parts: readonly string[]): string => parts.join('-').toLowerCase();

export const isRecordSchema = (
  schema: JsonSchema,
): schema is JsonSchema & { additionalProperties: JsonSchema } =>
  typeof schema.additionalProperties === 'object' && schema.properties === undefined;

const branchesOf = (schema: JsonSchema): JsonSchema[] | undefined => schema.anyOf ?? schema.oneOf;

/** The property every branch of a union fixes with a `const` (feature-flag's `provider`), if there is one. */
export function tagOf(branches: readonly JsonSchema[]): string | undefined {
  const first = branches[0]?.properties;
  if (!first) return undefined;
  return Object.keys(first).find((key) =>
    branches.every((branch) => branch.properties?.[key]?.const !== undefined),
  );
}

const entries = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The branch of a union that `value` takes, and the tag it adds to anchors; the schema itself if not a union. */
export function branchFor(
  schema: JsonSchema,
  value: unknown,
): { schema: JsonSchema; tag?: string } | undefined {
  const branches = branchesOf(schema);
  if (!branches) return { schema };
  const tag = tagOf(branches);
  if (tag !== undefined) {
    const wanted = entries(value)?.[tag];
    const branch = branches.find((b) => b.properties![tag]!.const === wanted);
    return branch ? { schema: branch, tag: String(wanted) } : undefined;
  }
  const type = typeOf(value);
  const branch = branches.find(
    (b) =>
      b.type === type ||
      (b.type === 'number' && type === 'integer') ||
      (b.type === 'object' && type === 'object'),
  );
  return branch ? { schema: branch } : undefined;
}

/** A step, check or after-step: the objects whose `with` is read by the executor their `uses` names. */
export const hasExecutorParams = (schema: JsonSchema): boolean =>
  schema.properties?.['uses'] !== undefined && schema.properties['with'] !== undefined;

/**
 * The anchor, in the reference, of the deepest documented field on `path` in a manifest document
 * (`data`, as parsed from YAML): where `validate` sends the author of a problem at that path.
 */
export function referenceAnchor(data: unknown, path: IssuePath, registry: ExecutorRegistry): string {
  if (path.length === 0) return FILES_ANCHOR;
  const subjects = referenceSubjects(registry);
  const document = entries(data);
  const [head, ...rest] = path;
  if (head === 'spec') {
    const kind = document?.['kind'];
    if (!isKind(kind)) return ENVELOPE_ANCHOR;
    return anchorOf(
      descend(subjects, subjects.specs[kind], [SUBJECT_ANCHOR[kind]], rest, document?.['spec']),
    );
  }
  return anchorOf(descend(subjects, subjects.envelope, [ENVELOPE_ANCHOR], path, data));
}

function isKind(kind: unknown): kind is ManifestKind {
  return typeof kind === 'string' && (KINDS as readonly string[]).includes(kind);
}

function descend(
  subjects: ReferenceSubjects,
  start: JsonSchema,
  startParts: string[],
  path: IssuePath,
  startValue: unknown,
): string[] {
  let schema = start;
  let parts = startParts;
  let value = startValue;
  for (const key of path) {
    const branch = branchFor(schema, value);
    if (!branch) break;
    schema = branch.schema;
    if (branch.tag !== undefined) parts = [...parts, branch.tag];
    const property = typeof key === 'string' ? schema.properties?.[key] : undefined;
    if (property && typeof key === 'string') {
      const kind = entries(value)?.['uses'];
      const executor = typeof kind === 'string' ? subjects.executors.get(kind) : undefined;
      if (key === 'with' && hasExecutorParams(schema) && executor) {
        schema = executor.schema;
        parts = [executor.kind];
        value = entries(value)?.['with'];
        continue;
      }
      schema = property;
      parts = [...parts, key];
    } else if (typeof key === 'number' && schema.items) {
      schema = schema.items;
    } else if (typeof key === 'string' && isRecordSchema(schema)) {
      schema = schema.additionalProperties;
    } else {
      break;
    }
    value = Array.isArray(value) ? (value as unknown[])[key as number] : entries(value)?.[key];
  }
  return parts;
}

/** One manifest document's values with the field each belongs to: the examples of the reference and `init`'s comments. */
export interface VisitedField {
  anchor: string;
  /** The field's own schema (its description, default). */
  schema: JsonSchema;
  /** Where in the document, e.g. ['spec', 'strategies', 'undo', 'steps', 0, 'uses']. */
  path: (string | number)[];
  value: unknown;
  /** Set on a step's (or check's) `with`: the executor its `uses` names, and the whole step. */
  step?: { executor: string; value: Record<string, unknown> };
}

/** Every field of a manifest document that the reference documents, parents before their children. */
export function visitDocument(
  data: unknown,
  registry: ExecutorRegistry,
  visit: (field: VisitedField) => void,
): void {
  const subjects = referenceSubjects(registry);
  const document = entries(data);
  if (!document) return;
  const kind = document['kind'];
  for (const key of Object.keys(subjects.envelope.properties!)) {
    if (key in document)
      walkValue(
        subjects,
        subjects.envelope.properties![key]!,
        [ENVELOPE_ANCHOR, key],
        [key],
        document[key],
        visit,
      );
  }
  if (isKind(kind) && 'spec' in document) {
    walkObject(subjects, subjects.specs[kind], [SUBJECT_ANCHOR[kind]], ['spec'], document['spec'], visit);
  }
}

function walkValue(
  subjects: ReferenceSubjects,
  schema: JsonSchema,
  parts: string[],
  path: (string | number)[],
  value: unknown,
  visit: (field: VisitedField) => void,
): void {
  visit({ anchor: anchorOf(parts), schema, path, value });
  walkObject(subjects, schema, parts, path, value, visit);
}

/** The fields inside `value`, whatever holds them: a mapping, a list of them, a mapping of them, a union. */
function walkObject(
  subjects: ReferenceSubjects,
  schema: JsonSchema,
  parts: string[],
  path: (string | number)[],
  value: unknown,
  visit: (field: VisitedField) => void,
): void {
  const branch = branchFor(schema, value);
  if (!branch) return;
  const shape = branch.schema;
  const at = branch.tag === undefined ? parts : [...parts, branch.tag];
  if (Array.isArray(value) && shape.items) {
    value.forEach((item, i) => {
      walkObject(subjects, shape.items!, at, [...path, i], item, visit);
    });
    return;
  }
  const object = entries(value);
  if (!object) return;
  if (isRecordSchema(shape)) {
    for (const [key, item] of Object.entries(object)) {
      walkObject(subjects, shape.additionalProperties, at, [...path, key], item, visit);
    }
    return;
  }
  for (const [key, item] of Object.entries(object)) {
    const property = shape.properties?.[key];
    if (!property) continue;
    const kind = object['uses'];
    const executor = typeof kind === 'string' ? subjects.executors.get(kind) : undefined;
    if (key === 'with' && hasExecutorParams(shape) && executor) {
      visit({
        anchor: anchorOf([...at, key]),
        schema: property,
        path: [...path, key],
        value: item,
        step: { executor: executor.kind, value: object },
      });
      walkObject(subjects, executor.schema, [executor.kind], [...path, key], item, visit);
      continue;
    }
    walkValue(subjects, property, [...at, key], [...path, key], item, visit);
  }
}
