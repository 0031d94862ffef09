/** One thing wrong (or worth a look) in the manifests, located as precisely as the YAML allows. */
import type { IssuePath } from '../schema/issues.js';

export interface Problem {
  file: string;
  line?: number;
  column?: number;
  /** Where in the document, e.g. `spec.strategies.blue-green.steps[1].with.url`; '' for the whole file. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
  /** Where the docs explain the field or rule, e.g. `docs/plan-reference.md#plan-rto`. */
  docs?: string;
}

/** `spec.strategies.blue-green.steps[1].with.url`; keys that are not plain names are quoted. */
export function formatPath(path: IssuePath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** `file:line:col  path  severity: message (see docs/...)`, the line `rollback-bot validate` prints. */
export function formatProblem(problem: Problem): string {
  const where = [problem.file, problem.line, problem.column].filter((part) => part !== undefined).join(':');
  const path = problem.path === '' ? '' : `  ${problem.path}`;
  const docs = problem.docs === undefined ? '' : ` (see ${problem.docs})`;
  return `${where}${path}  ${problem.severity}: ${problem.message}${docs}`;
}

export function compareProblems(a: Problem, b: Problem): number {
  return (
    a.file.localeCompare(b.file) ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    a.path.localeCompare(b.path)
  );
}
