/**
 * Fuzzing the manifests: mutated plan files (250 in `npm test`, 1,000 in CI's short soak): the
 * shipped examples and the e2e plans, broken as documents (a field removed, retyped, replaced by a
 * hostile value, a key added) and as text (cut short, spliced, YAML tricks inserted), through the
 * validator the bot and `rollback-bot validate` share. It never throws, and answers with a list of
 * problems, each located and said in a sentence.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateManifestTexts, type ManifestText } from '../../src/config/manifests.js';
import { defaultRegistry } from '../../src/executors/default-registry.js';
import {
  CRASH_MARKS,
  fuzzParameters,
  fuzzRuns,
  fuzzTimeout,
  mutatedJson,
  mutatedText,
} from '../support/fuzz.js';

const root = join(import.meta.dirname, '../..');
/**
 * Plan files validated in `npm test` (about 11 ms of CPU each, most of it YAML parsing); the CI's
 * short soak (FUZZ_SCALE=4) runs 1,000, `npm run test:soak` 2,500.
 */
const PLAN_RUNS = 250;
const EXAMPLES = join(root, 'manifests/examples');
const POLICY_FILE = 'example-config.yaml';
const bases: ManifestText[] = [
  ...readdirSync(EXAMPLES)
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => ({ file: name, text: readFileSync(join(EXAMPLES, name), 'utf8') })),
  { file: 'e2e-plans.yaml', text: readFileSync(join(root, 'test/fixtures/e2e/plans.yaml'), 'utf8') },
];
/** The authority policies the plans name, alone (the rest of example-config.yaml is fuzzed as a base). */
const policies: ManifestText = {
  file: 'policies.yaml',
  text: YAML.parseAllDocuments(bases.find((b) => b.file === POLICY_FILE)!.text)
    .map((doc) => doc.toJS() as { kind?: unknown })
    .filter((doc) => doc.kind === 'AuthorityPolicy')
    .map((doc) => YAML.stringify(doc))
    .join('---\n'),
};

/** Text a YAML file can hold that trips parsers: aliases, merges, tags, directives, odd scalars. */
const YAML_TRICKS = [
  '\n- &a [*a]\n',
  '\n<<: *missing\n',
  '\nx: !!binary AAAA\n',
  '\nx: !!js/function "() => 1"\n',
  '\n%YAML 1.1\n---\n',
  '\n? [a, b]\n: c\n',
  '\n\t- tab\n',
  '\n---\n',
  '\n...\n',
  ': : :',
  '{{',
  '${env:',
  '\u0000',
  '\ufeff',
  'y: &x\n  - *x',
  '\n' + '  '.repeat(200) + 'deep: 1\n',
];

/** A base file, mutated as documents (re-serialised) or as text. */
const mutatedFile: fc.Arbitrary<ManifestText> = fc.constantFrom(...bases).chain((base) => {
  const docs = YAML.parseAllDocuments(base.text).map((doc) => doc.toJS() as unknown);
  const asDocuments = fc
    .tuple(fc.nat({ max: docs.length - 1 }), fc.constant(null))
    .chain(([index]) =>
      mutatedJson(docs[index]).map((mutant) =>
        docs.map((doc, i) => YAML.stringify(i === index ? mutant : doc)).join('---\n'),
      ),
    );
  return fc
    .oneof(asDocuments, mutatedText(base.text, YAML_TRICKS))
    .map((text) => ({ file: base.file, text }));
});

describe('plan files, fuzzed', () => {
  it(
    `validates ${fuzzRuns(PLAN_RUNS)} mutated plan files without a throw, each problem located and explained`,
    () => {
      const registry = defaultRegistry();
      const seen = { valid: 0, withErrors: 0, problems: 0 };
      expect(validateManifestTexts([policies], registry).problems).toEqual([]);
      fc.assert(
        fc.property(mutatedFile, (file) => {
          // The policy file beside the plan, as in a folder: the cross-checks run for real.
          const files = file.file === POLICY_FILE ? [file] : [file, policies];
          const set = validateManifestTexts(files, registry);
          expect(Array.isArray(set.problems)).toBe(true);
          const names = files.map((f) => f.file);
          for (const problem of set.problems) {
            expect(names).toContain(problem.file);
            expect(['error', 'warning']).toContain(problem.severity);
            expect(typeof problem.path).toBe('string');
            expect(problem.message.trim().length, JSON.stringify(problem)).toBeGreaterThan(5);
            expect(problem.message).not.toMatch(CRASH_MARKS);
            if (problem.line !== undefined) expect(problem.line).toBeGreaterThanOrEqual(1);
          }
          seen.problems += set.problems.length;
          if (set.problems.some((p) => p.severity === 'error')) seen.withErrors += 1;
          else seen.valid += 1;
        }),
        fuzzParameters(fuzzRuns(PLAN_RUNS)),
      );
      console.info(`plan-file fuzz: ${JSON.stringify(seen)}`);
      // Most mutants are broken, and every broken one said why.
      expect(seen.withErrors).toBeGreaterThan(fuzzRuns(PLAN_RUNS) / 2);
    },
    fuzzTimeout(30_000),
  );
});
