/**
 * Checks the `{{ variable }}` and `${env:NAME}` references inside a step's `with` values, and that
 * nothing secret-looking is written in a file. Runs before any incident, so a typo in a variable
 * name fails `validate` instead of sending "{{ toVersoin }}" to production.
 */
import { stepId, TEMPLATE_VARIABLES, VARIABLE_PATH } from '../domain/template-vars.js';
import { hasSecretReference } from '../domain/param-text.js';
import type { StepCondition } from '../domain/plan.js';
import { didYouMean } from '../schema/did-you-mean.js';
import type { IssuePath } from '../schema/issues.js';

export interface Finding {
  path: IssuePath;
  message: string;
  severity: 'error' | 'warning';
}

export interface StepScope {
  /** Ids of the steps that run before this one: their outputs may be used. */
  earlier: readonly string[];
  /** Ids of the steps that run after it, to explain why they may not. */
  later: readonly string[];
  /** The step's own id: its output does not exist while its parameters and `when` are read. */
  self?: string;
  /** When given, every `${env:NAME}` must name a variable present here (`validate --env-check`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Keys whose values are credentials: `token`, `apiKey`, `password`, `clientSecret`, `Authorization`... */
const SECRET_KEY = /(token|password|passwd|secret|api[-_]?key|authorization|credentials?)$/i;
const SECRET_REFERENCE_AT = /^\$\{(?:env:([A-Za-z_][A-Za-z0-9_]*)|file:\/[^}\s]*)\}/;
const TEMPLATE = /\{\{(.*?)\}\}/gs;

export function checkWithValues(value: unknown, path: IssuePath, scope: StepScope): Finding[] {
  const findings: Finding[] = [];
  walk(
    value,
    path,
    (text, at, key) => {
      if (key !== undefined && SECRET_KEY.test(key) && !hasSecretReference(text)) {
        findings.push(literalSecret(at, key));
      }
      findings.push(...checkText(text, at, scope));
    },
    (at, key) => findings.push(literalSecret(at, key)),
  );
  return findings;
}

function literalSecret(path: IssuePath, key: string): Finding {
  return {
    path,
    severity: 'error',
    message: `"${key}" looks like a secret written in the file: put it in an environment variable and write \${env:NAME}`,
  };
}

function walk(
  value: unknown,
  path: IssuePath,
  onText: (text: string, path: IssuePath, key: string | undefined) => void,
  onNonTextSecret: (path: IssuePath, key: string) => void,
  key?: string,
): void {
  if (typeof value === 'string') onText(value, path, key);
  else if (Array.isArray(value))
    value.forEach((item, i) => {
      walk(item, [...path, i], onText, onNonTextSecret, key);
    });
  else if (value !== null && typeof value === 'object') {
    for (const [childKey, child] of Object.entries(value)) {
      walk(child, [...path, childKey], onText, onNonTextSecret, childKey);
    }
  } else if (
    key !== undefined &&
    SECRET_KEY.test(key) &&
    (typeof value === 'number' || typeof value === 'boolean')
  ) {
    onNonTextSecret(path, key);
  }
}

function checkText(text: string, path: IssuePath, scope: StepScope): Finding[] {
  const findings: Finding[] = [];
  const error = (message: string) => findings.push({ path, message, severity: 'error' });
  const withoutTemplates = text.replace(TEMPLATE, (_, expression: string) => {
    const problem = checkVariable(expression.trim(), scope);
    if (problem !== undefined) error(problem);
    return '';
  });
  if (withoutTemplates.includes('{{') || withoutTemplates.includes('}}')) {
    error('has an unbalanced "{{" or "}}": write templates as {{ variable }}');
  }
  for (let at = text.indexOf('${'); at !== -1; at = text.indexOf('${', at + 2)) {
    const match = SECRET_REFERENCE_AT.exec(text.slice(at));
    if (!match) {
      error(
        `has a malformed secret reference "${text.slice(at, at + 24)}": write \${env:NAME} or \${file:/path}`,
      );
    } else if (match[1] !== undefined && scope.env !== undefined && scope.env[match[1]] === undefined) {
      error(`needs the environment variable ${match[1]}, which is not set`);
    }
  }
  return findings;
}

/**
 * Checks a step's `when` (already parsed into its reference) like any `{{ }}` in its parameters:
 * a misspelt variable or a step that has not run yet fails `validate`, not the incident.
 */
export function checkCondition(condition: StepCondition, path: IssuePath, scope: StepScope): Finding[] {
  const problem = checkVariable(condition.ref, scope);
  return problem === undefined ? [] : [{ path, message: problem, severity: 'error' }];
}

function checkVariable(expression: string, scope: StepScope): string | undefined {
  if (!VARIABLE_PATH.test(expression)) {
    return `template "{{ ${expression} }}" is not a variable: only {{ name }} or {{ a.b }} are allowed here`;
  }
  const parts = expression.split('.');
  if (parts[0] === 'env') {
    return `"{{ ${expression} }}": env is not a template variable; secrets and settings come from the environment as \${env:${parts[1] ?? 'NAME'}}`;
  }
  if (parts[0] === 'steps') return checkStepReference(expression, parts, scope);
  if (TEMPLATE_VARIABLES.includes(expression)) return undefined;
  return `unknown template variable "${expression}"${didYouMean(expression, TEMPLATE_VARIABLES)}; known: ${TEMPLATE_VARIABLES.join(', ')}, steps.<step>.output.<key>`;
}

function checkStepReference(expression: string, parts: string[], scope: StepScope): string | undefined {
  const [, step, output, key] = parts;
  if (step === undefined || output !== 'output' || key === undefined) {
    return `"{{ ${expression} }}": a step's output is used as steps.<step>.output.<key>`;
  }
  const id = stepId({ name: step });
  if (scope.earlier.includes(id)) return undefined;
  if (scope.self === id) {
    return `"{{ ${expression} }}" uses the output of this very step, which does not exist before it runs: only earlier steps' outputs do`;
  }
  if (scope.later.includes(id)) {
    return `"{{ ${expression} }}" uses the output of step "${id}", which runs after this one: only earlier steps' outputs exist`;
  }
  const known =
    scope.earlier.length > 0
      ? `; earlier steps: ${scope.earlier.join(', ')}`
      : '; no step runs before this one';
  return `"{{ ${expression} }}" names no earlier step "${id}"${didYouMean(id, scope.earlier)}${known}`;
}
