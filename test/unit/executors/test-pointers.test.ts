/**
 * Every executor names the tests that prove it (`// Tested by ...` in its index.ts), and those files
 * exist: a reader of an executor finds its tests without searching, and a moved test is noticed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../../src/executors/default-registry.js';

const root = join(import.meta.dirname, '../../..');
const folders = readdirSync(join(root, 'src/executors'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('executor test pointers', () => {
  it('covers every registered executor kind with a folder', () => {
    expect(
      defaultRegistry()
        .kinds()
        .every((kind) => folders.includes(kind)),
    ).toBe(true);
  });

  it.each(folders)('%s names test files that exist', (folder) => {
    const source = readFileSync(join(root, 'src/executors', folder, 'index.ts'), 'utf8');
    const pointer = /\/\/ Tested by (.+)\.\n/.exec(source)?.[1];
    expect(pointer, `src/executors/${folder}/index.ts has no "// Tested by" line`).toBeDefined();
    const files = [...(pointer ?? '').matchAll(/test\/[\w./-]+\.test\.ts/g)].map((match) => match[0]);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(join(root, file)), file).toBe(true);
  });
});
