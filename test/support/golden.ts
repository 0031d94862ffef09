/**
 * Golden files for rendered Slack JSON: `test/unit/slack/golden/<name>.golden.json`. A missing file
 * is written (and the test passes); `UPDATE_GOLDEN=1` rewrites them all. Goldens are committed and
 * reviewed like code: a diff in one is a change to what people see in Slack.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

export const GOLDEN_DIR = join(import.meta.dirname, '..', 'unit', 'slack', 'golden');

export function expectGolden(name: string, value: unknown): void {
  const file = join(GOLDEN_DIR, `${name}.golden.json`);
  const actual = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(actual, `golden ${name} differs (UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(file, 'utf8'));
}
