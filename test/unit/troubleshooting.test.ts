/**
 * docs/troubleshooting.md explains every code the bot refuses or fails with. The codes are collected
 * from the source, not listed here: the exported code lists, and every `code: '...'` literal in src
 * (a typed error's code, an engine or domain refusal). A new code without its section fails this.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFUSAL_CODES } from '../../src/app/refusals.js';
import { AUTHORITY_REFUSAL_CODES } from '../../src/domain/authority.js';
import { EVENT_REFUSAL_CODES } from '../../src/domain/rollback-rules.js';
import { HTTP_ERROR_CODES } from '../../src/http/respond.js';

const root = join(import.meta.dirname, '../..');

/** `code: '...'` literals that are not codes the bot answers with. */
const NOT_ANSWERS: Record<string, string> = {
  custom: "zod's issue code for a refinement",
  value: 'the kind of a communication template variable (communication-vars.ts)',
};
/** The simulator plays Slack: its codes are Slack's own API errors, not the bot's. */
const NOT_THE_BOT = ['src/simulator/'];

function sourceCodes(): Map<string, string> {
  const found = new Map<string, string>();
  const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(root, 'src', file))
    .filter((file) => !NOT_THE_BOT.some((folder) => relative(root, file).startsWith(folder)));
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bcode: '([a-z][a-z_]*)'/g)) {
      if (!(match[1]! in NOT_ANSWERS) && !found.has(match[1]!)) found.set(match[1]!, relative(root, file));
    }
  }
  return found;
}

function allCodes(): Map<string, string> {
  const codes = sourceCodes();
  const lists: [readonly string[], string][] = [
    [REFUSAL_CODES, 'REFUSAL_CODES (src/app/refusals.ts)'],
    [HTTP_ERROR_CODES, 'HTTP_ERROR_CODES (src/http/respond.ts)'],
    [AUTHORITY_REFUSAL_CODES, 'AUTHORITY_REFUSAL_CODES (src/domain/authority.ts)'],
    [EVENT_REFUSAL_CODES, 'EVENT_REFUSAL_CODES (src/domain/rollback-rules.ts)'],
  ];
  for (const [list, where] of lists) for (const code of list) if (!codes.has(code)) codes.set(code, where);
  return codes;
}

/** The codes that have a heading of their own, e.g. "### `not_accepted`". */
function documented(): Set<string> {
  const page = readFileSync(join(root, 'docs/troubleshooting.md'), 'utf8');
  const headings = page.split('\n').filter((line) => /^#{2,4} /.test(line));
  return new Set(headings.flatMap((line) => [...line.matchAll(/`([a-z][a-z_]*)`/g)].map((m) => m[1]!)));
}

describe('docs/troubleshooting.md', () => {
  it('finds the codes in the source (the scan still works)', () => {
    const codes = allCodes();
    // One of each family: a typed error, an app refusal, an HTTP code, the authority matrix, an event.
    for (const code of [
      'config_invalid',
      'aws_failed',
      'unknown_service',
      'replay',
      'rank_too_low',
      'stale',
    ]) {
      expect(codes.has(code), code).toBe(true);
    }
    expect(codes.size).toBeGreaterThan(35);
  });

  it('has a section for every code the bot answers with', () => {
    const headings = documented();
    const missing = [...allCodes()]
      .filter(([code]) => !headings.has(code))
      .map(([code, where]) => `${code} (from ${where})`);
    expect(
      missing,
      'add a section to docs/troubleshooting.md: the message, what it means, how to fix it',
    ).toEqual([]);
  });
});
