/**
 * The collections table in docs/operations/redis.md is what an operator reads when Redis grows: it
 * must list exactly the collections of `src/store/collections.ts`, with the same owner, content, TTL
 * and retention. And the code names collections only through `COLLECTIONS`, so that list is complete.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../../src/domain/duration.js';
import { COLLECTION_INFO, COLLECTIONS, ttlOf } from '../../../src/store/collections.js';

const root = join(import.meta.dirname, '../../..');

/** The rows of the first table after `### Document collections`, cells trimmed, backticks of code cells dropped. */
function documentedRows(markdown: string): string[][] {
  const section = markdown.split('### Document collections')[1] ?? '';
  const lines = section.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const table = lines.slice(start).filter((_, i, all) => all.slice(0, i + 1).every((l) => l.startsWith('|')));
  return table
    .slice(2)
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
    .map(([name = '', owner = '', ...rest]) => [name.replace(/`/g, ''), owner.replace(/`/g, ''), ...rest]);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('document collections', () => {
  it('docs/operations/redis.md lists every collection as src/store/collections.ts describes it', () => {
    const expected = Object.entries(COLLECTION_INFO).map(([name, info]) => [
      name,
      info.owner,
      info.holds,
      info.ttlMs === null ? 'none' : formatDuration(info.ttlMs),
      info.retention,
    ]);
    const documented = documentedRows(readFileSync(join(root, 'docs/operations/redis.md'), 'utf8'));
    expect(documented, 'update the table under "Document collections" in docs/operations/redis.md').toEqual(
      expected,
    );
  });

  it('gives a TTL only to once-records, long enough to outlast a redelivery, and the store reads it', () => {
    const minute = 60_000;
    for (const [name, info] of Object.entries(COLLECTION_INFO)) {
      expect(ttlOf(name), name).toBe(info.ttlMs);
      if (info.ttlMs === null) continue;
      expect(info.ttlMs, name).toBeGreaterThanOrEqual(60 * minute);
      expect(info.holds, `${name}: only once-records and dedup records expire`).toMatch(
        /once-records|effects applied/,
      );
    }
    for (const kept of [COLLECTIONS.incidents, COLLECTIONS.slackCards, COLLECTIONS.incidentThreads]) {
      expect(ttlOf(kept), kept).toBeNull();
    }
    expect(ttlOf('not-a-collection')).toBeNull();
  });

  it('names each collection once, and every owner exists', () => {
    expect(Object.keys(COLLECTION_INFO).sort()).toEqual(Object.values(COLLECTIONS).sort());
    for (const info of Object.values(COLLECTION_INFO)) {
      expect(() => readFileSync(join(root, info.owner)), info.owner).not.toThrow();
    }
  });

  it('no source file names a collection by a string: they use COLLECTIONS', () => {
    // A literal as the collection argument of a document or once-record call, or a collection name
    // distinctive enough (hyphenated) to be one wherever it is quoted.
    const literalArgument = [
      /\.(?:getDoc|putDoc|listDocs|deleteDoc)(?:<[^>]*>)?\(\s*['"`]/,
      /\b(?:doOnce|claimOnce|markDone|releaseOnce)\(\s*[^,]+,\s*['"`]/,
    ];
    const distinctive = Object.values(COLLECTIONS).filter((name) => name.includes('-'));
    const spelled = sourceFiles(join(root, 'src'))
      .filter((file) => !file.endsWith(join('store', 'collections.ts')))
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        const where = relative(root, file);
        return [
          ...literalArgument.filter((pattern) => pattern.test(text)).map((pattern) => `${where}: ${pattern}`),
          ...distinctive
            .filter((name) => ['"', "'", '`'].some((quote) => text.includes(`${quote}${name}`)))
            .map((name) => `${where}: ${name}`),
        ];
      });
    expect(spelled).toEqual([]);
  });
});
