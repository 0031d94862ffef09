/**
 * The variables a step's `with` values may use as `{{ name }}`. Validation checks every reference
 * against this list before an incident needs it; executors receive the values at run time.
 * Secrets are not template variables: they come from the environment as `${env:NAME}`.
 */
export interface TemplateVars {
  rollback: { id: string; reason: string };
  service: string;
  environment: string;
  /** Unknown when no deployment was recorded for the service. */
  fromVersion: string | null;
  toVersion: string;
  strategy: string;
  incident: { startedAt: string };
  declaredBy: string;
  /** Outputs of the steps already run (steps after resolution too), by step id (see `stepId`). */
  steps: Record<string, { output: Record<string, unknown> }>;
}

/** What may stand inside `{{ }}`: a dotted path such as `steps.find-version.output.version`. */
export const VARIABLE_PATH = /^[A-Za-z_][\w-]*(\.[\w-]+)*$/;

/** A well-formed `{{ path }}` reference inside a text; group 1 is the path. */
export const TEMPLATE_REFERENCE = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}/g;

export const TEMPLATE_VARIABLES: readonly string[] = [
  'rollback.id',
  'rollback.reason',
  'service',
  'environment',
  'fromVersion',
  'toVersion',
  'strategy',
  'incident.startedAt',
  'declaredBy',
];

/**
 * How `steps.<id>.output.<key>` names a step: its `id`, else its name in kebab-case
 * ("Take a backup" -> `take-a-backup`), so plans can keep human step names.
 */
export function stepId(step: { id?: string | undefined; name: string }): string {
  return slug(step.id ?? step.name);
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The values a rollback offers its steps' templates. */
export function templateVarsFor(rollback: {
  id: string;
  reason: string;
  service: string;
  environment: string;
  fromVersion: string | null;
  toVersion: string;
  strategy: {
    name: string;
    steps: ReadonlyArray<{ id?: string | undefined; name: string }>;
    after?: ReadonlyArray<{ id?: string | undefined; name: string }> | undefined;
  };
  incidentStartedAt: number;
  declaredBy: string;
  steps: ReadonlyArray<{ output?: Record<string, unknown> | undefined }>;
  afterSteps?: ReadonlyArray<{ output?: Record<string, unknown> | undefined }> | undefined;
}): TemplateVars {
  const steps: TemplateVars['steps'] = {};
  const add = (
    specs: ReadonlyArray<{ id?: string | undefined; name: string }>,
    states: ReadonlyArray<{ output?: Record<string, unknown> | undefined }>,
  ): void => {
    specs.forEach((spec, index) => {
      const output = states[index]?.output;
      if (output) steps[stepId(spec)] = { output };
    });
  };
  add(rollback.strategy.steps, rollback.steps);
  // `validate` makes the ids of steps after resolution differ from the steps' ids.
  add(rollback.strategy.after ?? [], rollback.afterSteps ?? []);
  return {
    rollback: { id: rollback.id, reason: rollback.reason },
    service: rollback.service,
    environment: rollback.environment,
    fromVersion: rollback.fromVersion,
    toVersion: rollback.toVersion,
    strategy: rollback.strategy.name,
    incident: { startedAt: new Date(rollback.incidentStartedAt).toISOString() },
    declaredBy: rollback.declaredBy,
    steps,
  };
}

/**
 * The value at a dotted `path` of the variables, or undefined when any part is missing. Own
 * properties only: an output key such as `constructor` or `__proto__` never reaches the prototype.
 */
export function lookupVariable(vars: TemplateVars, path: string): unknown {
  let current: unknown = vars;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** A variable's value as text in a template: strings as they are, anything else as JSON. */
export const variableText = (value: unknown): string =>
  typeof value === 'string' ? value : JSON.stringify(value);
