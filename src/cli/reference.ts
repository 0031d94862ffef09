/**
 * `rollback-bot reference [FILE]`: docs/plan-reference.md, generated from the zod schemas with the
 * examples of manifests/examples (`npm run docs` writes it; a test fails when it is stale).
 */
import { readdir, readFile } from 'node:fs/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { referenceMarkdown } from '../config/reference-page.js';
import { defaultRegistry } from '../executors/default-registry.js';
import { USAGE, type CliIo } from './io.js';

/** The project (or installed package) root: the examples and docs are read from there. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function referenceText(root = ROOT): Promise<string> {
  const folder = join(root, 'manifests/examples');
  const files = (await readdir(folder)).filter((name) => /\.ya?ml$/.test(name)).sort();
  const examples = [];
  for (const name of files) {
    const text = await readFile(join(folder, name), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      examples.push({ file: `manifests/examples/${name}`, data: doc.toJS() as unknown });
    }
  }
  const pages = await readdir(join(root, 'docs/executors')).catch(() => []);
  return referenceMarkdown({
    registry: defaultRegistry(),
    examples,
    executorPages: pages.filter((name) => name.endsWith('.md')).map((name) => name.slice(0, -'.md'.length)),
  });
}

export async function runReference(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 1 || args.some((arg) => arg.startsWith('-'))) {
    io.err(`rollback-bot reference: unexpected ${args.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const text = await referenceText();
  const [file] = args;
  if (file === undefined) {
    io.out(text);
    return 0;
  }
  const target = resolve(io.cwd, file);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text);
  io.err(`wrote ${file}\n`);
  return 0;
}
