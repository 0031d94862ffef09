/**
 * Sizes, seed and mutators of the property and fuzz tests. `npm test` runs each at its base size
 * with a fixed seed, so a failure reproduces; `npm run test:soak` sets FUZZ_SCALE (10 unless given)
 * to run the same files longer, and FUZZ_SEED tries another part of the input space.
 *
 * The mutators start from a valid input (a real payload, a real plan) and break it the ways senders
 * and people do: a field removed, retyped or replaced by a hostile value, a key added (`__proto__`
 * too), text truncated or spliced. Most mutants are then just wrong enough to reach deep into the
 * parser, which random bytes alone rarely do.
 */
import fc from 'fast-check';

const scale = Number(process.env['FUZZ_SCALE'] ?? '1');
const seed = Number(process.env['FUZZ_SEED'] ?? '20261123');

if (!Number.isFinite(scale) || scale <= 0)
  throw new Error(`FUZZ_SCALE must be a positive number, got ${scale}`);
if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${seed}`);

export const FUZZ_SCALE = scale;
export const FUZZ_SEED = seed;

/** How many inputs a fuzz test tries: its base size in `npm test`, scaled up in a soak. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * scale));
}

/** The test timeout for a fuzz test whose base size takes about `baseMs` when the machine is busy. */
export function fuzzTimeout(baseMs: number): number {
  return Math.max(20_000, Math.round(baseMs * Math.max(1, scale)));
}

/** `fc.assert`'s parameters for `runs` inputs with the fixed seed (a failure prints how to replay it). */
export function fuzzParameters(runs: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: runs };
}

/** Values that have broken parsers before: wrong types, extremes, markup, references, traversal. */
export const HOSTILE_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  '',
  ' ',
  'x'.repeat(5_000),
  '\u0000',
  '\u202egnp.exe',
  '<!channel> <@U0ONCALL1> *bold* `code`',
  '${env:SLACK_BOT_TOKEN}',
  '{{ steps.x.output }}',
  '../../../etc/passwd',
  '2026-13-45T99:99:99Z',
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  'NaN',
  '-',
  'firing',
  'resolved',
  [],
  {},
  [[[]]],
  { '': '' },
];

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', 'toString', 'status', 'labels', 'value'),
  fc.string({ maxLength: 12 }),
);

type Operation = {
  kind: 'delete' | 'replace' | 'insert' | 'retype' | 'duplicate';
  pick: number;
  key: string;
  value: unknown;
};

const operation: fc.Arbitrary<Operation> = fc.record({
  kind: fc.constantFrom('delete', 'replace', 'insert', 'retype', 'duplicate'),
  pick: fc.nat(),
  key: hostileKey,
  value: hostileValue,
});

type Container = Record<string, unknown> | unknown[];
type Place = { parent: Container | null; key: string | number; value: unknown };

const isContainer = (value: unknown): value is Container => typeof value === 'object' && value !== null;

/** Every value in the document with where it sits, the root first. */
function places(root: unknown): Place[] {
  const found: Place[] = [{ parent: null, key: '', value: root }];
  for (let i = 0; i < found.length; i += 1) {
    const { value } = found[i]!;
    if (!isContainer(value)) continue;
    for (const [key, child] of Object.entries(value)) {
      found.push({ parent: value, key: Array.isArray(value) ? Number(key) : key, value: child });
    }
  }
  return found;
}

/** Sets an own property, as JSON.parse would: `__proto__` becomes a key, not the prototype. */
function put(target: Container, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function retype(value: unknown): unknown {
  if (typeof value === 'string')
    return value === '' ? 0 : Number.isNaN(Number(value)) ? [value] : Number(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  if (isContainer(value)) return Object.values(value);
  return {};
}

function apply(root: unknown, op: Operation): unknown {
  const all = places(root);
  const place = all[op.pick % all.length]!;
  const replace = (value: unknown): unknown => {
    if (place.parent === null) return value;
    put(place.parent, place.key, value);
    return root;
  };
  switch (op.kind) {
    case 'delete':
      if (place.parent === null) return op.value;
      if (Array.isArray(place.parent)) place.parent.splice(place.key as number, 1);
      else Reflect.deleteProperty(place.parent, place.key);
      return root;
    case 'replace':
      return replace(op.value);
    case 'insert':
      if (Array.isArray(place.value)) place.value.push(op.value);
      else if (isContainer(place.value)) put(place.value, op.key, op.value);
      else return replace(op.value);
      return root;
    case 'retype':
      return replace(retype(place.value));
    case 'duplicate':
      if (Array.isArray(place.value) && place.value.length > 0) {
        place.value.push(...(JSON.parse(JSON.stringify(place.value)) as unknown[]));
        return root;
      }
      return replace([place.value, place.value]);
  }
}

/** JSON copy that keeps own `__proto__` keys (structuredClone would too; JSON is what goes on the wire). */
const copy = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

/** `base` with one to four mutations, as JSON that went over the wire (a fresh copy each time). */
export function mutatedJson(base: unknown): fc.Arbitrary<unknown> {
  return fc
    .array(operation, { minLength: 1, maxLength: 4 })
    .map((ops) => copy(ops.reduce<unknown>((doc, op) => apply(doc, op), copy(base))));
}

/** Text spliced the way files and pastes break: cut short, a span removed, junk or a line inserted. */
export function mutatedText(base: string, junk: readonly string[] = []): fc.Arbitrary<string> {
  const insert = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    ...(junk.length > 0 ? [fc.constantFrom(...junk)] : []),
  );
  return fc
    .tuple(fc.nat(), fc.nat({ max: 200 }), insert, fc.constantFrom('cut', 'remove', 'insert', 'repeat'))
    .map(([at, span, text, kind]) => {
      const i = at % (base.length + 1);
      switch (kind) {
        case 'cut':
          return base.slice(0, i);
        case 'remove':
          return base.slice(0, i) + base.slice(i + span);
        case 'insert':
          return base.slice(0, i) + text + base.slice(i);
        case 'repeat':
          return base.slice(0, i) + base.slice(i, i + span).repeat(3) + base.slice(i + span);
      }
    });
}

/** The marks of a crash leaking into a message: a stack frame, an error's name, an object printed raw. */
export const CRASH_MARKS =
  /\n\s+at |TypeError|ReferenceError|RangeError|SyntaxError: Unexpected|\[object Object\]/;
