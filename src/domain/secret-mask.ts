/**
 * Hides secret values wherever text is kept or shown: step output before it is stored, cards,
 * thread messages, API answers, stakeholder messages and log lines. One mask per process, fed with
 * every secret the bot knows (its own tokens, the plans' `${env:...}`/`${file:...}` values, and
 * whatever a step resolved at run time), so a value is hidden even where it arrives in an encoded
 * form: URL-encoded in a query string, form-encoded, or escaped inside a JSON string.
 */
export const MASK = '•••';

/**
 * Shorter values are not masked: they would hide ordinary words and digits all over the output,
 * and a secret that short protects nothing anyway.
 */
export const MIN_SECRET_LENGTH = 4;

/** The forms a secret takes in the places the bot writes or reads text. */
function formsOf(secret: string): string[] {
  const uri = encodeURIComponent(secret);
  const json = JSON.stringify(secret).slice(1, -1);
  return [secret, uri, uri.replace(/%20/g, '+'), json, uri.toLowerCase()];
}

export class SecretMask {
  /**
   * Every form of every secret as one pattern (one pass over a text instead of one per form),
   * longest first, so a secret that contains another is masked whole.
   */
  private pattern: RegExp | null = null;
  private readonly known = new Set<string>();

  constructor(secrets: Iterable<string | undefined> = []) {
    this.add(secrets);
  }

  add(secrets: Iterable<string | undefined>): void {
    let changed = false;
    for (const secret of secrets) {
      if (secret === undefined || secret.length < MIN_SECRET_LENGTH || this.known.has(secret)) continue;
      this.known.add(secret);
      changed = true;
    }
    if (!changed) return;
    const forms = new Set<string>();
    for (const secret of this.known) for (const form of formsOf(secret)) forms.add(form);
    const longestFirst = [...forms].sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(longestFirst.map(escapeRegExp).join('|'), 'g');
  }

  get size(): number {
    return this.known.size;
  }

  text(text: string): string {
    return this.pattern === null ? text : text.replace(this.pattern, MASK);
  }

  /** Whether any form of any secret occurs in `text` (one pass, nothing copied). */
  appearsIn(text: string): boolean {
    if (this.pattern === null) return false;
    this.pattern.lastIndex = 0;
    return this.pattern.test(text);
  }

  /**
   * A JSON-like value with every string (keys included) masked: the value itself when it holds no
   * secret (the common case, one pass over its JSON), else a masked copy.
   */
  value<T>(value: T): T {
    if (this.pattern === null) return value;
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined || !this.appearsIn(json)) return value;
    return this.deep(value) as T;
  }

  private deep(node: unknown): unknown {
    if (typeof node === 'string') return this.text(node);
    if (Array.isArray(node)) return node.map((child) => this.deep(child));
    if (isPlainObject(node)) {
      return Object.fromEntries(
        Object.entries(node).map(([key, child]) => [this.text(key), this.deep(child)]),
      );
    }
    return node;
  }
}

function isPlainObject(node: unknown): node is Record<string, unknown> {
  if (typeof node !== 'object' || node === null) return false;
  const prototype: unknown = Object.getPrototypeOf(node);
  return prototype === Object.prototype || prototype === null;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
