/**
 * The folders under src/ depend on each other one way (DESIGN section 2): the pure domain and the
 * small shared kit (`lib`) at the bottom, the store and the engine above them, adapters around,
 * and only `wiring`, `cli` and `main.ts` assembling the whole. A cycle between folders, or an
 * inner folder reaching outward, fails here with the imports that make it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(file: string): string {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? (parts[0] ?? '') : '(root)';
}

/** Folder -> folder -> the imports that make the edge, as `from.ts -> to.ts`. */
function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), match[1] ?? '').replace(/\.js$/, '.ts');
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      edges.set(to, [...(edges.get(to) ?? []), `${relative(src, file)} -> ${relative(src, target)}`]);
    }
  }
  return graph;
}

/** The folders reachable from `start` by following imports, `start` excluded unless on a cycle. */
function reachable(graph: Map<string, Map<string, string[]>>, start: string): Set<string> {
  const seen = new Set<string>();
  const pending = [...(graph.get(start)?.keys() ?? [])];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...(graph.get(next)?.keys() ?? []));
  }
  return seen;
}

/** What the inner folders may import; everything else may import them, never the reverse. */
const INNER: Record<string, string[]> = {
  domain: [],
  lib: ['domain'],
  schema: ['domain'],
  store: ['domain', 'lib'],
  engine: ['domain', 'lib', 'store'],
};

/** Only these assemble the application; no other folder may import them. */
const ASSEMBLERS = ['wiring', 'cli', '(root)'];

const graph = folderGraph();

describe('folder dependencies', () => {
  it.each([...graph.keys()].sort())('%s is on no cycle', (folder) => {
    const back = [...(graph.get(folder)?.keys() ?? [])].filter((to) => reachable(graph, to).has(folder));
    expect(back, `${folder} imports folders that import it back`).toEqual([]);
  });

  it.each(Object.entries(INNER))('%s imports only %j', (folder, allowed) => {
    const outward = [...(graph.get(folder) ?? new Map<string, string[]>()).entries()]
      .filter(([to]) => !allowed.includes(to))
      .flatMap(([, imports]) => imports);
    expect(outward).toEqual([]);
  });

  it('leaves assembling to wiring, cli and main.ts', () => {
    const inward = [...graph.entries()]
      .filter(([from]) => !ASSEMBLERS.includes(from))
      .flatMap(([, edges]) => ASSEMBLERS.flatMap((to) => edges.get(to) ?? []));
    expect(inward).toEqual([]);
  });
});
