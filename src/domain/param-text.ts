/**
 * The references a plan's author may write inside a step's `with` text: `{{ variable }}` and the
 * secrets `${env:NAME}` and `${file:/path}`. The text is split into pieces once, so values are put
 * in by position: a value that holds `${env:...}` or `{{ ... }}` is never read as a reference
 * again, whoever wrote it (a user, an alert, CI or an earlier step's output).
 */
export type ParamPiece =
  | { kind: 'text'; text: string }
  | { kind: 'variable'; path: string }
  | { kind: 'secret'; source: 'env' | 'file'; name: string };

export type SecretRef = Extract<ParamPiece, { kind: 'secret' }>;

const ENV_NAME = '[A-Za-z_][A-Za-z0-9_]*';
const FILE_PATH = '/[^}\\s]*';
const VARIABLE = '[A-Za-z_][\\w-]*(?:\\.[\\w-]+)*';

/** Every reference in a text: group 1 a variable path, 2 an env name, 3 a file path. */
const REFERENCE = new RegExp(
  `\\{\\{\\s*(${VARIABLE})\\s*\\}\\}|\\$\\{env:(${ENV_NAME})\\}|\\$\\{file:(${FILE_PATH})\\}`,
  'g',
);

const SECRET = `\\$\\{env:${ENV_NAME}\\}|\\$\\{file:${FILE_PATH}\\}`;
/** Any secret reference inside a text. */
export const SECRET_REFERENCES = new RegExp(SECRET, 'g');
/** A whole text that is exactly one secret reference, as secret-only fields require. */
export const WHOLE_SECRET_REFERENCE = new RegExp(`^(?:${SECRET})$`);

export function splitParamText(text: string): ParamPiece[] {
  const pieces: ParamPiece[] = [];
  let last = 0;
  for (const match of text.matchAll(REFERENCE)) {
    if (match.index > last) pieces.push({ kind: 'text', text: text.slice(last, match.index) });
    const [, variable, envName, filePath] = match;
    if (variable !== undefined) pieces.push({ kind: 'variable', path: variable });
    else if (envName !== undefined) pieces.push({ kind: 'secret', source: 'env', name: envName });
    else if (filePath !== undefined) pieces.push({ kind: 'secret', source: 'file', name: filePath });
    last = match.index + match[0].length;
  }
  if (last < text.length) pieces.push({ kind: 'text', text: text.slice(last) });
  return pieces;
}

export const hasSecretReference = (text: string): boolean =>
  splitParamText(text).some((piece) => piece.kind === 'secret');

/** Every secret reference inside a plan value (strings at any depth). */
export function secretRefsIn(value: unknown): SecretRef[] {
  const refs: SecretRef[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'string') {
      for (const piece of splitParamText(node)) if (piece.kind === 'secret') refs.push(piece);
    } else if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) Object.values(node).forEach(walk);
  };
  walk(value);
  return refs;
}
