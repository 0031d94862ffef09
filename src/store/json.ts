/** Stored values are plain JSON; these keep both stores converting them the same way. */

/** JSON.stringify, except that what it would turn into undefined (undefined, functions) becomes null. */
export function toJson(value: unknown): string {
  const unrepresentable = value === undefined || typeof value === 'function' || typeof value === 'symbol';
  return unrepresentable ? 'null' : JSON.stringify(value);
}

export function parseJson(text: string): unknown {
  return JSON.parse(text) as unknown;
}

/** The value as it comes back from a store: through JSON (dates become strings, undefined fields vanish). */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(toJson(value)) as T;
}
