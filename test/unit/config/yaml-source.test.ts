import * as yaml from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { readYamlDocuments } from '../../../src/config/yaml-source.js';

vi.mock('yaml', async (original) => {
  const actual = await original<typeof import('yaml')>();
  return { ...actual, parseAllDocuments: vi.fn(actual.parseAllDocuments) };
});

const parses = vi.mocked(yaml.parseAllDocuments);

const TEXT = `kind: First
spec:
  name: one
---
kind: Second
spec: &shared
  steps:
    - name: a
    - name: b
      with: { url: x }
copy: *shared
---
kind: Third
`;

describe('readYamlDocuments locate', () => {
  it('finds the key of a path in any document of the file, the deepest that exists when it is cut short', () => {
    const { documents } = readYamlDocuments('plans.yaml', TEXT);
    expect(documents.map((doc) => doc.index)).toEqual([0, 1, 2]);
    expect(documents[0]!.locate(['spec', 'name'])).toEqual({ line: 3, column: 3 });
    expect(documents[1]!.locate(['spec', 'steps', 1, 'with', 'url'])).toEqual({ line: 10, column: 15 });
    expect(documents[1]!.locate(['spec', 'steps', 1, 'missing'])).toEqual({ line: 9, column: 7 });
    // Through an alias: the position is where the aliased value is written.
    expect(documents[1]!.locate(['copy', 'steps', 0, 'name'])).toEqual({ line: 8, column: 7 });
    expect(documents[2]!.locate(['kind'])).toEqual({ line: 13, column: 1 });
  });

  it('parses the text again once per file, at the first position asked, instead of keeping every syntax tree', () => {
    parses.mockClear();
    const { documents } = readYamlDocuments('plans.yaml', TEXT);
    expect(parses).toHaveBeenCalledTimes(1);
    for (const doc of documents) doc.locate(['kind']);
    documents[0]!.locate(['spec']);
    expect(parses).toHaveBeenCalledTimes(2);
  });
});
