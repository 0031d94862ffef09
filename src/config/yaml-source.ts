/**
 * YAML text -> plain documents that remember where each value came from, so a problem found in
 * the parsed data (a zod issue path) can be reported at its line and column.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { IssuePath } from '../schema/issues.js';
import type { Problem } from './problem.js';

/** Expanding more aliases than this is a "billion laughs" attack, not a rollback plan. */
export const MAX_ALIAS_COUNT = 100;

export interface Position {
  line: number;
  column: number;
}

export interface SourceDocument {
  file: string;
  /** Position of the document in its file, from 0. */
  index: number;
  data: unknown;
  /** Line and column of the deepest node on `path` that exists (a key rather than its value). */
  locate(path: IssuePath): Position | undefined;
}

export function readYamlDocuments(
  file: string,
  text: string,
): { documents: SourceDocument[]; problems: Problem[]; empty: boolean } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const documents: SourceDocument[] = [];
  const problems: Problem[] = [];
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const locator = fileLocator(text, position);
  parsed.forEach((doc, index) => {
    // Only the first syntax error of a document: the following ones are nearly always its echoes.
    for (const [severity, list] of [
      ['error', doc.errors.slice(0, 1)],
      ['warning', doc.warnings],
    ] as const) {
      for (const error of list) {
        problems.push({
          file,
          ...position(error.pos[0]),
          path: '',
          message: yamlMessage(error.message),
          severity,
        });
      }
    }
    if (doc.errors.length > 0 || isBlank(doc)) return;
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      problems.push({
        file,
        ...position(doc.contents?.range[0] ?? 0),
        path: '',
        message: `YAML aliases expand too much (more than ${MAX_ALIAS_COUNT} times): ${yamlMessage(String(error))}`,
        severity: 'error',
      });
      return;
    }
    documents.push({ file, index, data, locate: locator(index) });
  });
  const empty = parsed.every(isBlank) && problems.length === 0;
  return { documents, problems, empty };
}

/**
 * `locate` for each document of a file, from the file's text parsed again at its first problem. The
 * first parse's syntax trees are not kept for the few documents that have a problem: holding every
 * tree until the last cross-check made loading 500 plans spend half as long again in the garbage
 * collector (bench/startup.ts). One parse per file, however many of its documents have problems.
 */
function fileLocator(
  text: string,
  position: (offset: number) => Position,
): (index: number) => SourceDocument['locate'] {
  let trees: Document.Parsed[] | undefined;
  return (index) => (path) => {
    trees ??= parseAllDocuments(text, { uniqueKeys: true });
    const doc = trees[index];
    const offset = doc === undefined ? undefined : offsetOf(doc, path);
    return offset === undefined ? undefined : position(offset);
  };
}

/** A document with nothing in it, as a trailing `---` or a file of comments makes. */
function isBlank(doc: Document.Parsed): boolean {
  return doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
}

function offsetOf(doc: Document.Parsed, path: IssuePath): number | undefined {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range[0];
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (!item || typeof item !== 'object' || !('range' in item)) break;
      offset = (item as { range?: [number, number, number] }).range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

/** yaml's pretty messages end with "at line L, column C:" and a code frame; we print those ourselves. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/^ReferenceError: /, '');
}
