/**
 * What a version is, decided once for every way one enters (the slash command's `--to`, the
 * declaration modal, `POST /api/deployments`, a recorded deployment read back). A version reaches
 * step parameters (`{{ toVersion }}` in a URL path, an argv, an image tag), so it must stay one
 * token there: no `/` (a path), no leading `-` (an option), no `?`, `#`, spaces, control or
 * bidirectional characters. Pure.
 */
import { z } from 'zod';
import { findUnsafeCharacter, visible } from './untrusted-text.js';

export const VERSION_MAX = 128;
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const VERSION_RULE = `a version is letters, digits and . _ + - (at most ${VERSION_MAX}, starting with a letter or digit)`;

export type VersionParse =
  | { ok: true; version: string }
  /** `message` is the rule and the problem; `problem` alone (`'../x' has '/'`) for tight spaces. */
  | { ok: false; code: 'invalid_version'; message: string; problem: string };

const SHOWN_MAX = 60;
const ALLOWED = /[A-Za-z0-9._+-]/;

/** The version, or a refusal naming the rule and what broke it: `... : '../x' has '/'`. */
export function parseVersion(raw: string): VersionParse {
  if (VERSION_PATTERN.test(raw)) return { ok: true, version: raw };
  const shown = visible(raw.length > SHOWN_MAX ? `${raw.slice(0, SHOWN_MAX)}…` : raw);
  const refuse = (what: string): VersionParse => {
    const problem = raw === '' ? 'it is empty' : `'${shown}' ${what}`;
    return { ok: false, code: 'invalid_version', message: `${VERSION_RULE}: ${problem}`, problem };
  };
  if (raw === '') return refuse('is empty');
  const unsafe = findUnsafeCharacter(raw);
  if (unsafe !== undefined) return refuse(`has ${unsafe.escape} (${unsafe.kind})`);
  if (raw.length > VERSION_MAX) return refuse(`is ${raw.length} characters long`);
  // Code points, so an emoji is named whole rather than as half a surrogate pair.
  const first = String.fromCodePoint(raw.codePointAt(0)!);
  if (!/[A-Za-z0-9]/.test(first)) return refuse(`starts with '${first}'`);
  const bad = Array.from(raw).find((char) => !ALLOWED.test(char))!;
  return refuse(/\s/.test(bad) ? 'has a space' : `has '${bad}'`);
}

/** `parseVersion` as a zod schema, for the edges that parse a body or a form with zod. */
export const versionSchema = z.string().transform((text, ctx) => {
  const parsed = parseVersion(text);
  if (parsed.ok) return parsed.version;
  ctx.addIssue({ code: 'custom', message: parsed.message });
  return z.NEVER;
});
