/**
 * docs/plan-reference.md is generated from the zod schemas (`npm run docs`): it must be the page the
 * schemas write today, every field must have a description, and every link `validate` prints must
 * land on an anchor of the page.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceText } from '../../../src/cli/reference.js';
import { validateManifestTexts } from '../../../src/config/manifests.js';
import { referenceEntries } from '../../../src/config/reference-page.js';
import { referenceSubjects, SUBJECT_ANCHOR } from '../../../src/config/reference.js';
import { KINDS } from '../../../src/config/manifest-schema.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';

const root = join(import.meta.dirname, '../../..');
const page = readFileSync(join(root, 'docs/plan-reference.md'), 'utf8');
const anchors = [...page.matchAll(/<a id="([^"]+)"><\/a>/g)].map((match) => match[1]!);
const registry = defaultRegistry();

function allEntries() {
  const subjects = referenceSubjects(registry);
  return [
    ...referenceEntries(subjects.envelope, ['manifest'], ''),
    ...KINDS.flatMap((kind) => referenceEntries(subjects.specs[kind], [SUBJECT_ANCHOR[kind]], 'spec')),
    ...[...subjects.executors.values()].flatMap((executor) =>
      referenceEntries(executor.schema, [executor.kind], 'with'),
    ),
  ];
}

describe('docs/plan-reference.md', () => {
  it('is the page the schemas write (run `npm run docs` after changing a schema or an example)', async () => {
    expect(page === (await referenceText()), 'docs/plan-reference.md is stale: run `npm run docs`').toBe(
      true,
    );
  });

  it('has a description for every field of every manifest kind and every executor', () => {
    const undescribed = allEntries()
      .filter((entry) => !entry.heading && (entry.schema.description ?? '').trim() === '')
      .map((entry) => `${entry.anchor} (${entry.title})`);
    expect(undescribed, 'add a .describe() to these fields').toEqual([]);
  });

  it('documents every executor the registry knows, each with its anchor', () => {
    for (const kind of registry.kinds()) expect(anchors).toContain(kind);
  });

  it('gives each field one anchor of its own', () => {
    const seen = new Set<string>();
    const repeated = anchors.filter((anchor) => (seen.has(anchor) ? true : (seen.add(anchor), false)));
    expect(repeated).toEqual([]);
    for (const entry of allEntries()) expect(anchors).toContain(entry.anchor);
  });

  it('is where every problem `validate` finds in the broken plans links to', () => {
    const folder = join(root, 'test/fixtures/broken-plans');
    const files = readdirSync(folder).map((file) => ({
      file,
      text: readFileSync(join(folder, file), 'utf8'),
    }));
    const { problems } = validateManifestTexts(files, registry);
    expect(problems.length).toBeGreaterThan(20);
    for (const problem of problems.filter((p) => p.severity === 'error')) {
      expect(problem.docs, `${problem.file} ${problem.path}`).toMatch(/^docs\/plan-reference\.md#/);
      expect(anchors, `${problem.file} ${problem.path}: ${problem.docs ?? ''}`).toContain(
        problem.docs!.split('#')[1],
      );
    }
  });

  it('sends a problem to the deepest field it knows: the executor parameter, the tagged branch, the step', () => {
    const plan = (steps: string, stabilize: string) => `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata: { name: flags }
spec:
  service: flags
  channel: C0FLAGS
  environments: [production]
  criticality: low
  defaultStrategy: flag-off
  strategies:
    flag-off:
      steps:
${steps}
      stabilize: ${stabilize}
`;
    const links = (text: string) =>
      validateManifestTexts([{ file: 'flags.yaml', text }], registry).problems.map(
        (p) => `${p.path} ${p.docs ?? ''}`,
      );
    // The document parses: the cross-checks read the executors' parameters.
    const steps = `        - name: Flag off
          uses: feature-flag
          with: { provider: unleash, url: 'not a url', token: '\${env:T}', environment: production, flag: x }
        - name: Wait
          uses: http
          with: { url: 'https://example.com', timeout: soon }`;
    expect(links(plan(steps, '5m'))).toEqual([
      'spec.authority docs/plan-reference.md#plan-authority',
      'spec.strategies.flag-off.steps[0].with.url docs/plan-reference.md#feature-flag-unleash-url',
      'spec.strategies.flag-off.steps[1].with.timeout docs/plan-reference.md#http-timeout',
    ]);
    // The document does not parse: its shape is wrong where the reference says how it should be.
    const typo = `        - name: Wait
          uses: http
          retires: 2`;
    expect(links(plan(typo, '{ for: 5m, interval: often }'))).toEqual([
      'spec.strategies.flag-off.steps[0].retires docs/plan-reference.md#plan-strategies-steps',
      'spec.strategies.flag-off.stabilize.interval docs/plan-reference.md#plan-strategies-stabilize-interval',
    ]);
  });
});
