import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findUnsafeCharacter, visible } from '../../../src/domain/untrusted-text.js';
import { parseVersion, VERSION_PATTERN, versionSchema } from '../../../src/domain/version.js';

const refusal = (raw: string): string => {
  const parsed = parseVersion(raw);
  if (parsed.ok) throw new Error(`expected '${raw}' to be refused`);
  return parsed.message;
};
const RULE = 'a version is letters, digits and . _ + - (at most 128, starting with a letter or digit)';

describe('a version', () => {
  it('takes the versions people and pipelines write', () => {
    for (const version of [
      'v1.4.1',
      '1.4.1',
      '2026.11.23-1',
      '1.0.0+build.7',
      'release_42',
      'abc1234def',
      'V',
    ])
      expect(parseVersion(version)).toEqual({ ok: true, version });
    expect(parseVersion('a'.repeat(128)).ok).toBe(true);
  });

  it('refuses what would change meaning in a URL path, an argv or a terminal, saying which rule broke', () => {
    expect(refusal('../x')).toBe(`${RULE}: '../x' starts with '.'`);
    expect(refusal('v1/../../..')).toBe(`${RULE}: 'v1/../../..' has '/'`);
    expect(refusal('--log-file=x')).toBe(`${RULE}: '--log-file=x' starts with '-'`);
    expect(refusal('v1?all=true')).toMatch(/has '\?'$/);
    expect(refusal('v1#x')).toMatch(/has '#'$/);
    expect(refusal('v1 2')).toMatch(/has a space$/);
    expect(refusal('v1:latest')).toMatch(/has ':'$/);
    expect(refusal('')).toBe(`${RULE}: it is empty`);
    expect(refusal('a'.repeat(129))).toMatch(/is 129 characters long$/);
    expect(refusal('v1\u202E2')).toBe(
      `${RULE}: 'v1\\u202E2' has \\u202E (a bidirectional formatting character)`,
    );
    expect(refusal('v1\n')).toMatch(/has \\u000A \(a control character\)$/);
    expect(refusal('v1😀')).toMatch(/has '😀'$/);
  });

  it('agrees with its pattern on any text, and never echoes an unsafe character', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140, unit: 'binary' }), (text) => {
        const parsed = parseVersion(text);
        expect(parsed.ok).toBe(VERSION_PATTERN.test(text));
        if (!parsed.ok) expect(findUnsafeCharacter(parsed.message)).toBeUndefined();
      }),
      { numRuns: 2_000 },
    );
  });

  it('is a zod schema whose issue is the same sentence', () => {
    const parsed = versionSchema.safeParse('../etc');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(`${RULE}: '../etc' starts with '.'`);
    expect(versionSchema.parse('v2')).toBe('v2');
  });
});

describe('untrusted text', () => {
  it('finds control (C0, DEL, C1) and bidirectional formatting characters, allowing what a field allows', () => {
    expect(findUnsafeCharacter('plain text, العربية, עברית')).toBeUndefined();
    for (const code of [0x00, 0x1b, 0x7f, 0x85, 0x9f])
      expect(findUnsafeCharacter(`a${String.fromCharCode(code)}`)?.kind).toBe('a control character');
    for (const code of [0x061c, 0x200e, 0x200f, 0x202a, 0x202e, 0x2066, 0x2069])
      expect(findUnsafeCharacter(`a${String.fromCharCode(code)}`)?.kind).toBe(
        'a bidirectional formatting character',
      );
    expect(findUnsafeCharacter('line\nline\tx', ['\n', '\t'])).toBeUndefined();
    expect(findUnsafeCharacter('line\nline\r', ['\n', '\t'])).toEqual({
      escape: '\\u000D',
      kind: 'a control character',
      index: 9,
    });
    expect(visible('a\u202Eb\u0000')).toBe('a\\u202Eb\\u0000');
  });
});
