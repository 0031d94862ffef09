/**
 * Golden files for rendered output: Slack JSON in `test/unit/slack/golden/<name>.golden.json`, and
 * plain text (message templates) as `<name>.golden.txt` in a folder the test names. A missing file
 * is written (and the test passes); `UPDATE_GOLDEN=1` rewrites them all. Goldens are committed and
 * reviewed like code: a diff in one is a change to what people see in Slack.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

export const GOLDEN_DIR = join(import.meta.dirname, '..', 'unit', 'slack', 'golden');

export function expectGolden(name: string, value: unknown): void {
  compare(join(GOLDEN_DIR, `${name}.golden.json`), name, `${JSON.stringify(value, null, 2)}\n`);
}

/** `text` as it is, in `<dir>/<name>.golden.txt`: for texts whose line breaks are the point. */
export function expectGoldenText(dir: string, name: string, text: string): void {
  compare(join(dir, `${name}.golden.txt`), name, text.endsWith('\n') ? text : `${text}\n`);
}

function compare(file: string, name: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(actual, `golden ${name} differs (UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(file, 'utf8'));
}
