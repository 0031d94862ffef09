import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaText } from '../../../src/cli/schema.js';

describe('manifests/rollback-bot.schema.json', () => {
  it('is up to date with the zod schemas (run npm run schema)', () => {
    const committed = readFileSync(
      join(import.meta.dirname, '../../../manifests/rollback-bot.schema.json'),
      'utf8',
    );
    expect(committed === schemaText(), 'the schema file is stale: run `npm run schema` and commit it').toBe(
      true,
    );
  });

  it("describes fields and each executor's parameters", () => {
    const schema = JSON.parse(schemaText()) as { oneOf: { properties: { kind: { const: string } } }[] };
    expect(schema.oneOf.map((s) => s.properties.kind.const)).toEqual([
      'RollbackPlan',
      'AuthorityPolicy',
      'Communications',
    ]);
    const text = schemaText();
    expect(text).toContain('"description": "Recovery time objective: how long the rollback may take. ');
    expect(text).toContain('"const": "kubernetes"');
    expect(text).toContain('"additionalProperties": false');
  });
});
