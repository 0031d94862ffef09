/**
 * Characters that make untrusted text lie about itself: control characters (C0, DEL, C1), which
 * terminals, logs and shells act on, and Unicode bidirectional formatting characters, which make
 * text display in another order than it is stored (a right-to-left override can make a version
 * or a reason read as something else on screen). Nobody needs them in a command argument or a
 * version, so they are refused and named as a `\uXXXX` escape the reader can see. Pure.
 */

const isControl = (code: number): boolean => code <= 0x1f || (code >= 0x7f && code <= 0x9f);
/** Embeddings and overrides, isolates, and the marks (ALM, LRM, RLM). */
const isBidi = (code: number): boolean =>
  code === 0x061c ||
  code === 0x200e ||
  code === 0x200f ||
  (code >= 0x202a && code <= 0x202e) ||
  (code >= 0x2066 && code <= 0x2069);

export interface UnsafeCharacter {
  /** The character as an escape a reader can see: `\u202E`. */
  escape: string;
  kind: 'a control character' | 'a bidirectional formatting character';
  /** Its UTF-16 index in the text. */
  index: number;
}

/** `\u202E` for one UTF-16 code unit (every unsafe character is one). */
export function escapeCharacter(code: number): string {
  return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The first control or bidirectional formatting character of `text`, if any. `allow` lists the
 * control characters a field may hold (a multi-line reason allows `\n` and `\t`).
 */
export function findUnsafeCharacter(
  text: string,
  allow: readonly string[] = [],
): UnsafeCharacter | undefined {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    const control = isControl(code);
    if (!control && !isBidi(code)) continue;
    if (allow.includes(text[index]!)) continue;
    return {
      escape: escapeCharacter(code),
      kind: control ? 'a control character' : 'a bidirectional formatting character',
      index,
    };
  }
  return undefined;
}

/** The text with every control and bidirectional formatting character shown as its escape. */
export function visible(text: string): string {
  let shown = '';
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    shown += isControl(code) || isBidi(code) ? escapeCharacter(code) : text[index]!;
  }
  return shown;
}

/** "`--to` has \u202E (a bidirectional formatting character)...": the sentence refusals use. */
export function unsafeCharacterMessage(what: string, found: UnsafeCharacter): string {
  return `${what} has ${found.escape} (${found.kind}); type it again without it.`;
}
